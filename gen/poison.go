package gen

import (
	"bytes"
	"regexp"
	"strconv"
)

// Poison kinds (Body.Poison). Each poison body must be dead-lettered once; only the
// valid sibling in a PoisonBadBSUID body is processed.
const (
	PoisonTruncated   = "truncated"     // JSON cut short
	PoisonBadUTF8     = "invalid_utf8"  // invalid UTF-8 inside a string
	PoisonWrongType   = "wrong_type"    // "timestamp":{"x":1}, or "messages":"wamid..." (not an array)
	PoisonNotWhatsApp = "not_whatsapp"  // JSON, but a Messenger (object "page") webhook
	PoisonBadBSUID    = "invalid_bsuid" // one message with an invalid BSUID, one valid sibling
)

var poisonKinds = [...]string{PoisonTruncated, PoisonBadUTF8, PoisonWrongType, PoisonNotWhatsApp, PoisonBadBSUID}

// badBSUIDs break contract 6's rule (two capitals, a dot, optional ENT., 1-128 alphanumerics).
var badBSUIDs = [...]string{"co.18830092211746650031", "CO-18830092211746650031", "COL.1883009221",
	"CO.1883 0092211", "CO.ENT.", "C0.18830092211746650031"}

// poison returns the next poison body, taking the kinds in turn so even a few cover all.
// Its users are ones already seen, so a decoder that wrongly keeps part of a poison body
// still adds no contact; its ids are fresh and counted nowhere.
func (g *Generator) poison() Body {
	kind := poisonKinds[g.turn%len(poisonKinds)]
	u := g.pick(nil, 100, needSeen)
	if u < 0 {
		kind = PoisonNotWhatsApp
	}
	g.turn++
	g.exp.DeadLetters++
	var val []byte
	switch kind {
	case PoisonNotWhatsApp:
		return Body{Value: g.page(), Poison: kind}
	case PoisonTruncated:
		g.plain(u, texts[g.rng.IntN(len(texts))], false)
		val = g.assemble()
		lo := bytes.LastIndex(val, []byte("wamid.")) + 30 // past the id: no two alike
		val = val[:lo+g.rng.IntN(len(val)-lo-1)]
	case PoisonBadUTF8:
		g.plain(u, "Hola \xff\xfe, ¿precio?", false)
		val = g.assemble()
	case PoisonWrongType:
		if g.turn/len(poisonKinds)%2 == 0 {
			g.plain(u, "hola", true)
			val = g.assemble()
			break
		}
		b := g.users[u].biz
		g.arena = g.contact(g.arena, u, g.vis(&g.users[u]), pName|pUsername)
		g.add(u, b, fieldMessages, listMessages, 0, 0) // contacts only
		val = g.assemble()
		g.seq++ // one message id where the array belongs: "messages":"wamid..."
		val = append(g.qID(val[:len(val)-len(`[]}}]}]}`)], "wamid.", g.seq), `}}]}]}`...)
	case PoisonBadBSUID:
		g.message(u, tText) // valid: counted like any other message
		g.badMessage(g.items[0].biz)
		val = g.assemble()
	}
	k := g.biz[g.items[0].biz].key
	return Body{Key: k[:len(k):len(k)], Value: val, Poison: kind}
}

// plain renders a text message without counting it anywhere.
func (g *Generator) plain(u int32, text string, badTS bool) {
	v := g.vis(&g.users[u])
	start := len(g.arena)
	b := g.who(append(g.arena, '{'), u, v, "from", "from_user_id", "from_parent_user_id")
	g.seq++
	b = g.qID(key(b, "id"), "wamid.", g.seq)
	if badTS {
		b = append(key(b, "timestamp"), `{"x":1}`...)
	} else {
		b = unix(b, "timestamp", g.now)
	}
	b = append(append(key(str(b, "type", "text"), "text"), `{"body":"`...), text...)
	b = append(b, '"', '}', '}')
	mid := len(b)
	g.arena = g.contact(b, u, v, pName|pUsername)
	g.add(u, g.users[u].biz, fieldMessages, listMessages, start, mid)
}

// badMessage adds a message whose sender has an invalid BSUID.
func (g *Generator) badMessage(biz uint8) {
	bad := badBSUIDs[g.rng.IntN(len(badBSUIDs))]
	start := len(g.arena)
	b := str(append(g.arena, '{'), "from_user_id", bad)
	g.seq++
	b = unix(g.qID(key(b, "id"), "wamid.", g.seq), "timestamp", g.now)
	b = append(str(b, "type", "text"), `,"text":{"body":"hola"}}`...)
	mid := len(b)
	b = append(b, `{"profile":{"name":"?"}`...)
	g.arena = append(str(b, "user_id", bad), '}')
	g.add(-1, biz, fieldMessages, listMessages, start, mid)
}

// page is a Messenger webhook: valid JSON, not a WhatsApp one.
func (g *Generator) page() []byte {
	ms := strconv.AppendInt(nil, g.now*1000, 10)
	b := append(make([]byte, 0, 256), `{"object":"page","entry":[{"id":"`...)
	b = append(pad(b, 1e14+g.mix%9e14, 15), `","time":`...)
	b = append(append(b, ms...), `,"messaging":[{"sender":{"id":"`...)
	b = append(pad(b, g.rng.Uint64()%1e16, 16), `"},"recipient":{"id":"`...)
	b = append(pad(b, 1e14+g.mix%9e14, 15), `"},"timestamp":`...)
	b = append(append(b, ms...), `,"message":{"mid":"m_`...)
	b = append(pad(b, g.rng.Uint64()%1e16, 16), `","text":"hello"}}]}]}`...)
	return b
}

// PoisonReasons is what a dead letter's x-wapipe-error must speak of for each poison kind,
// for the checks that compare the dead-letter topic with the generator (e2e, the soak).
var PoisonReasons = map[string]*regexp.Regexp{
	// A cut can split a multi-byte character, so a truncated body may be invalid UTF-8 first.
	PoisonTruncated:   regexp.MustCompile(`(?i)json|unexpected end|truncated|utf-?8`),
	PoisonBadUTF8:     regexp.MustCompile(`(?i)utf-?8`),
	PoisonWrongType:   regexp.MustCompile(`(?i)timestamp|messages`),
	PoisonNotWhatsApp: regexp.MustCompile(`(?i)whatsapp|object`),
	PoisonBadBSUID:    regexp.MustCompile(`BSUID`),
}
