package gen

// Tables of realistic content. Strings are JSON-escaped already (json.go escapes nothing).

// countries: BSUID prefix, calling code, the mobile prefix of users' phones, another
// prefix for numbers no user has, the cumulative share of users, and a city.
var countries = [...]struct {
	code, cc, mobile, other string
	cum                     int
	lat, lon                float64
	city                    string
}{
	{"CO", "57", "30", "31", 35, 4.711, -74.0721, "Bogotá"},
	{"MX", "52", "55", "81", 60, 19.4326, -99.1332, "Ciudad de México"},
	{"BR", "55", "119", "219", 75, -23.5505, -46.6333, "São Paulo"},
	{"IN", "91", "98", "97", 90, 19.076, 72.8777, "Mumbai"},
	{"US", "1", "41", "64", 100, 37.7749, -122.4194, "San Francisco"},
}

// firstNames: the profile name and the ASCII stem usernames are made of.
var firstNames = [...]struct{ name, stem string }{
	{"Lina", "lina"}, {"Omar", "omar"}, {"Pablo", "pablo"}, {"María", "maria"},
	{"João", "joao"}, {"Ananya", "ananya"}, {"Carlos", "carlos"}, {"Sofía", "sofia"},
	{"Rahul", "rahul"}, {"Ana", "ana"}, {"Diego", "diego"}, {"Camila", "camila"},
	{"Lucas", "lucas"}, {"Priya", "priya"}, {"Valentina", "vale"}, {"Mateo", "mateo"},
	{"Emily", "emily"}, {"James", "james"}, {"Fernanda", "fer"}, {"Arjun", "arjun"},
}

var texts = [...]string{
	"Hola, ¿tienen envío a Cali?",
	"Quiero cambiar mi pedido",
	"Olá! Vocês entregam em São Paulo?",
	`Is the \"XL\" size back in stock?`,
	`Gracias!\nNos vemos mañana`,
	"मेरा ऑर्डर कहाँ है?",
	"Can I get more info about this?",
	"¿Cuál es el horario de atención?",
	"Preciso de ajuda com meu pagamento",
	"ok 👍",
	"Necesito factura electrónica, mi NIT es 900123456",
	"Hi, I'd like to book a table for 4 tonight",
}

var captions = [...]string{"Este es el producto", "Comprovante de pagamento", "Screenshot of the error", ""}

var buttons = [...]struct{ id, title string }{
	{"btn_confirm", "Sí, confirmar"}, {"btn_track", "Track my order"}, {"btn_agent", "Falar com atendente"},
}

var emojis = [...]string{"👍", "❤️", "😂", "🙏"}

// ads are the Click-to-WhatsApp ads users click. The one with status set ran in
// WhatsApp Status, whose referrals carry no ctwa_clid. At most 8 (user.ads is a byte).
var ads = [...]struct {
	id, url, body, headline, media string
	status                         bool
}{
	{"120226305854810726", "https://fb.me/3cr4Wqqkv", "Summer succulents are here!", "Chat with us", "video", false},
	{"120226305854810731", "https://fb.me/8Lm2PqRzA", "Envío gratis en pedidos de más de $100.000", "Escríbenos", "image", false},
	{"120226305854810745", "https://fb.me/1xYtr0pQe", "Frete grátis para todo o Brasil", "Fale conosco", "image", false},
	{"120226305854810768", "https://fb.me/5KdW2mNbv", "Diwali sale: 40% off", "Order on WhatsApp", "video", false},
	{"120226305854810772", "https://fb.me/9QzR4tUvw", "Nuevos horarios de atención", "Pregúntanos", "image", true},
	{"120226305854810790", "https://fb.me/2HgF7eLkS", "Book your test drive", "Message us", "video", false},
}

const (
	welcome  = `,"welcome_message":{"text":"Hi there! Let us know how we can help!"}`
	mediaCDN = "https://scontent.xx.fbcdn.net/v/t45.1600-4/"

	sdpOffer = `v=0\r\no=- 7669997803033704573 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n`

	err131049 = `,"errors":[{"code":131049,"title":"This message was not delivered to maintain healthy ecosystem engagement.","message":"This message was not delivered to maintain healthy ecosystem engagement.","error_data":{"details":"In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},"href":"/documentation/business-messaging/whatsapp/support/error-codes"}]`
)

// prices are the pricing plans a status can carry. authentication-international keeps
// the hyphen Meta's pricing table uses; the pipeline must normalize it.
var prices = [...]struct {
	category, typ, billable string
}{
	{},
	{"marketing", "regular", "true"},
	{"utility", "regular", "true"},
	{"authentication", "regular", "true"},
	{"authentication-international", "regular", "true"},
	{"service", "free_customer_service", "false"},
	{"utility", "free_customer_service", "false"},
	{"referral_conversion", "free_entry_point", "false"},
}

const (
	priceMarketing = 1
	priceEntry     = 7 // free entry point: comes with a conversation object
)
