package gen

import (
	"math/bits"
	"strconv"
)

// Identifiers are rendered from counters. The trailing digits are a bijection of the
// counter (multiplying by a number coprime with 10 permutes the values mod 10^k), so
// two users never share a BSUID or a phone; the leading digits only look random.
const (
	bijBSUID = 618033988749 // coprime with 10^12
	bijPhone = 61803399     // coprime with 10^8
)

// spread returns (n*p + off) mod m, a bijection of n mod m when p is coprime with m.
func spread(n uint32, p, off, m uint64) uint64 {
	hi, lo := bits.Mul64(uint64(n), p)
	return (bits.Rem64(hi, lo, m) + off%m) % m
}

func (g *Generator) bsuid(b []byte, c uint8, n uint32) []byte {
	b = append(b, countries[c].code...)
	b = append(b, '.')
	b = pad(b, 1e7+mix(uint64(n)^g.mix)%9e7, 8)
	return pad(b, spread(n, bijBSUID, g.mix, 1e12), 12)
}

func (g *Generator) parentBSUID(b []byte, c uint8, n uint32) []byte {
	b = append(b, countries[c].code...)
	b = append(b, ".ENT."...)
	b = pad(b, 1e4+mix(uint64(n)+g.mix<<1)%9e4, 5)
	return pad(b, spread(n, bijBSUID, g.mix>>8, 1e12), 12)
}

// phone renders digits only, as wa_id. other picks numbers no user has (shared cards).
func (g *Generator) phone(b []byte, c uint8, n uint32, other bool) []byte {
	k := &countries[c]
	b = append(b, k.cc...)
	if other {
		b = append(b, k.other...)
	} else {
		b = append(b, k.mobile...)
	}
	return pad(b, spread(n, bijPhone, g.mix>>16, 1e8), 8)
}

// display renders a phone as people type it on a card: "+57 301 5550199".
func (g *Generator) display(b []byte, c uint8, n uint32, other bool) []byte {
	var d [24]byte
	digits := g.phone(d[:0], c, n, other)[len(countries[c].cc):]
	b = append(append(b, '+'), countries[c].cc...)
	b = append(append(b, ' '), digits[:3]...)
	return append(append(b, ' '), digits[3:]...)
}

func (g *Generator) qBSUID(b []byte, c uint8, n uint32) []byte {
	return append(g.bsuid(append(b, '"'), c, n), '"')
}

func (g *Generator) qParent(b []byte, c uint8, n uint32) []byte {
	return append(g.parentBSUID(append(b, '"'), c, n), '"')
}

func (g *Generator) qPhone(b []byte, c uint8, n uint32) []byte {
	return append(g.phone(append(b, '"'), c, n, false), '"')
}

// name renders the profile name, "Lina K.".
func name(b []byte, n uint16) []byte {
	b = append(b, firstNames[n/26].name...)
	return append(b, ' ', byte('A'+n%26), '.')
}

// qUsername renders a unique username, "@lina.k3f": the user index makes it unique, so
// a username never moves between contacts by accident.
func (g *Generator) qUsername(b []byte, i int32) []byte {
	u := &g.users[i]
	b = append(b, '"', '@')
	b = append(b, firstNames[u.name/26].stem...)
	b = append(b, '.', byte('a'+u.name%26))
	b = strconv.AppendInt(b, int64(i), 36)
	return append(b, '"')
}

// who appends the user's identifiers visible in v under the given field names; an
// empty name leaves that identifier out.
func (g *Generator) who(b []byte, i int32, v vis, phoneK, bsuidK, parentK string) []byte {
	u := &g.users[i]
	if v&vPhone != 0 && phoneK != "" {
		b = g.qPhone(key(b, phoneK), u.country, u.phone)
	}
	if v&vBSUID != 0 && bsuidK != "" {
		b = g.qBSUID(key(b, bsuidK), u.country, u.bsuid)
		if u.parent != 0 && parentK != "" {
			b = g.qParent(key(b, parentK), u.country, u.parent)
		}
	}
	return b
}

// Parts of contacts[].profile.
const (
	pName = 1 << iota
	pUsername
)

// contact appends the value.contacts[] entry Meta sends for the user at this moment.
func (g *Generator) contact(b []byte, i int32, v vis, parts int) []byte {
	u := &g.users[i]
	b = append(b, `{"profile":{`...)
	if parts&pName != 0 {
		b = append(name(append(key(b, "name"), '"'), u.name), '"')
	}
	if parts&pUsername != 0 && v&vUsername != 0 {
		b = g.qUsername(key(b, "username"), i)
	}
	b = append(b, '}')
	b = g.who(b, i, v, "wa_id", "user_id", "parent_user_id")
	return append(b, '}')
}
