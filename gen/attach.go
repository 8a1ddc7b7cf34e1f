package gen

// Parts of inbound messages that carry identity or attribution: contact cards and
// Click-to-WhatsApp referrals.

// card appends messages[].contacts with one card; a vcard only for hand-shared cards.
func (g *Generator) card(b []byte, origin string, nm uint16, c uint8, n uint32, other bool) []byte {
	b = str(append(key(b, "contacts"), '[', '{'), "origin", origin)
	b = append(name(append(key(b, "name"), `{"formatted_name":"`...), nm), `","first_name":"`...)
	b = append(append(b, firstNames[nm/26].name...), `"}`...)
	b = append(g.display(append(key(b, "phones"), `[{"phone":"`...), c, n, other), '"')
	if origin == "contact_request" || !other {
		b = append(g.phone(append(key(b, "wa_id"), '"'), c, n, other), '"')
	}
	b = append(str(b, "type", "CELL"), '}', ']')
	if origin == "other" {
		b = append(name(append(key(b, "vcard"), `"BEGIN:VCARD\nVERSION:3.0\nFN:`...), nm), `\nTEL;type=CELL:`...)
		b = append(g.display(b, c, n, other), `\nEND:VCARD"`...)
	}
	return append(b, '}', ']')
}

func (g *Generator) referral(b []byte, i int) []byte {
	a := &ads[i]
	b = append(key(b, "referral"), '{')
	b = str(str(str(b, "source_url", a.url), "source_id", a.id), "source_type", "ad")
	b = str(str(str(b, "body", a.body), "headline", a.headline), "media_type", a.media)
	if a.media == "image" {
		b = media(b, "image_url", a.id, ".jpg")
	} else {
		b = media(media(b, "video_url", a.id, ".mp4"), "thumbnail_url", a.id, "_t.jpg")
	}
	if !a.status {
		b = g.qRandom(key(b, "ctwa_clid"), "Aff-", 6)
	}
	return append(append(b, welcome...), '}')
}

func media(b []byte, k, id, ext string) []byte {
	b = append(append(key(b, k), '"'), mediaCDN...)
	return append(append(append(b, id...), ext...), '"')
}
