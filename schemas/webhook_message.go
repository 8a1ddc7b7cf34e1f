package schemas

// Message is an element of value.messages[] on the messages field: one inbound
// message, edit, revoke, reaction or system notice. From is left out when Meta
// will not share the phone; FromUserID (the BSUID) is always present on current
// webhooks. Exactly one of the type-specific members is set, named by Type.
type Message struct {
	ID               string    `json:"id"`
	From             string    `json:"from"`
	FromUserID       string    `json:"from_user_id"`
	FromParentUserID string    `json:"from_parent_user_id"`
	GroupID          string    `json:"group_id"`
	Timestamp        Number    `json:"timestamp"`
	Type             string    `json:"type"`
	Context          *Context  `json:"context"`
	Referral         *Referral `json:"referral"`
	Errors           []Error   `json:"errors"` // type "unsupported" says why here

	Text        *Text           `json:"text"`
	Image       *Media          `json:"image"`
	Audio       *Media          `json:"audio"`
	Video       *Media          `json:"video"`
	Document    *Media          `json:"document"`
	Sticker     *Media          `json:"sticker"`
	Location    *Location       `json:"location"`
	Contacts    []SharedContact `json:"contacts"`
	Interactive *Interactive    `json:"interactive"`
	Button      *Button         `json:"button"`
	Reaction    *Reaction       `json:"reaction"`
	Order       *Order          `json:"order"`
	Edit        *Edit           `json:"edit"`
	Revoke      *Revoke         `json:"revoke"`
	System      *System         `json:"system"`
	Identity    *KeyIdentity    `json:"identity"` // with system type customer_identity_changed
}

// Context says which message this one replies to or forwards.
type Context struct {
	From                string `json:"from"`
	ID                  string `json:"id"`
	Forwarded           bool   `json:"forwarded"`
	FrequentlyForwarded bool   `json:"frequently_forwarded"`
	ReferredProduct     *struct {
		CatalogID         string `json:"catalog_id"`
		ProductRetailerID string `json:"product_retailer_id"`
	} `json:"referred_product"`
}

// Referral is the Click-to-WhatsApp ad a message came through. CtwaClid is left
// out when the ad ran in WhatsApp Status.
type Referral struct {
	SourceURL      string `json:"source_url"`
	SourceID       string `json:"source_id"`
	SourceType     string `json:"source_type"`
	Body           string `json:"body"`
	Headline       string `json:"headline"`
	MediaType      string `json:"media_type"`
	ImageURL       string `json:"image_url"`
	VideoURL       string `json:"video_url"`
	ThumbnailURL   string `json:"thumbnail_url"`
	CtwaClid       string `json:"ctwa_clid"`
	WelcomeMessage struct {
		Text string `json:"text"`
	} `json:"welcome_message"`
}

// Text is a text message's content.
type Text struct {
	Body string `json:"body"`
}

// Media is image, audio, video, document or sticker content.
type Media struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
	Voice    bool   `json:"voice"`
	Animated bool   `json:"animated"`
}

// Location is a shared location. Coordinates stay text: the reports do not use
// them, and a provider that quotes them must not make the message undecodable.
type Location struct {
	Latitude  Number `json:"latitude"`
	Longitude Number `json:"longitude"`
	Name      string `json:"name"`
	Address   string `json:"address"`
	URL       string `json:"url"`
}

// SharedContact is a contact card of a "contacts" message. Origin is
// "contact_request" when the user shared their own number on the business's
// request, "other" for a hand-shared card (which may be anyone's).
type SharedContact struct {
	Origin string `json:"origin"`
	Name   struct {
		FormattedName string `json:"formatted_name"`
		FirstName     string `json:"first_name"`
		LastName      string `json:"last_name"`
	} `json:"name"`
	Phones []ContactPhone `json:"phones"`
	Vcard  string         `json:"vcard"` // only with origin "other"
}

// ContactPhone is a phone of a shared card: Phone as the user typed it
// ("+57 301 5550199"), WaID in digits when the number is on WhatsApp.
type ContactPhone struct {
	Phone string `json:"phone"`
	WaID  string `json:"wa_id"`
	Type  string `json:"type"`
}

// Interactive is the user's reply to an interactive message.
type Interactive struct {
	Type        string `json:"type"` // button_reply, list_reply, nfm_reply, call_permission_reply
	ButtonReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"button_reply"`
	ListReply *struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"list_reply"`
	NfmReply *struct {
		Name         string `json:"name"`
		Body         string `json:"body"`
		ResponseJSON string `json:"response_json"`
	} `json:"nfm_reply"`
	CallPermissionReply *struct {
		Response            string `json:"response"`
		IsPermanent         bool   `json:"is_permanent"`
		ExpirationTimestamp Number `json:"expiration_timestamp"`
		ResponseSource      string `json:"response_source"`
	} `json:"call_permission_reply"`
}

// Button is a quick-reply button press on a template message.
type Button struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

// Reaction is an emoji reaction; Emoji is empty when the reaction was removed.
type Reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

// Order is a cart sent from a catalog.
type Order struct {
	CatalogID    string `json:"catalog_id"`
	Text         string `json:"text"`
	ProductItems []struct {
		ProductRetailerID string `json:"product_retailer_id"`
		Quantity          Number `json:"quantity"`
		ItemPrice         Number `json:"item_price"`
		Currency          string `json:"currency"`
	} `json:"product_items"`
}

// Edit replaces the content of an earlier message; the webhook message has an id
// of its own, the edited one is OriginalMessageID.
type Edit struct {
	OriginalMessageID string   `json:"original_message_id"`
	Message           *Message `json:"message"`
}

// Revoke deletes an earlier message for everyone.
type Revoke struct {
	OriginalMessageID string `json:"original_message_id"`
}
