package gen

import (
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"
)

// recount rebuilds Expected from the bodies alone, as a pipeline would: encoding/json
// into a minimal struct, sets of distinct ids, and a union-find of identifiers linked
// by the contract's rules. It shares no code with the generator.

var bsuidRe = regexp.MustCompile(`^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$`)

func okBSUID(s string) bool { return s == "" || bsuidRe.MatchString(s) }
func okPhone(s string) bool { return strings.Trim(s, "0123456789") == "" }

type recount struct {
	inbound, outbound, usage, calls, system, refs, shares, ended map[string]bool
	rank                                                         map[string]int
	parent                                                       map[string]string
	leads                                                        [][2]string // (identity key, ad)
	seconds                                                      int64
	again                                                        bool // a message seen in an earlier body
	feature                                                      map[string]int
}

func newRecount() *recount {
	m := func() map[string]bool { return map[string]bool{} }
	return &recount{inbound: m(), outbound: m(), usage: m(), calls: m(), system: m(), refs: m(),
		shares: m(), ended: m(), rank: map[string]int{}, parent: map[string]string{}, feature: map[string]int{}}
}

func (r *recount) find(k string) string {
	for r.parent[k] != k {
		r.parent[k] = r.parent[r.parent[k]]
		k = r.parent[k]
	}
	return k
}

// link puts the tenant's non-empty keys in one set (contract 4: keys seen together).
func (r *recount) link(tenant string, keys ...string) {
	first := ""
	for _, k := range keys {
		if k == "" {
			continue
		}
		k = tenant + "|" + k
		if _, ok := r.parent[k]; !ok {
			r.parent[k] = k
		}
		if first == "" {
			first = k
		} else {
			r.parent[r.find(k)] = r.find(first)
		}
	}
}

var ranks = map[string]int{"sent": 1, "delivered": 2, "read": 3, "failed": 4}

// add counts one body and says whether a pipeline must dead-letter it.
func (r *recount) add(body []byte) (dead bool) {
	var h hook
	if !utf8.Valid(body) || json.Unmarshal(body, &h) != nil || h.Object != "whatsapp_business_account" {
		return true
	}
	r.shape(&h)
	for _, e := range h.Entry {
		t := e.ID
		for _, c := range e.Changes {
			v := &c.Value
			for _, ct := range v.Contacts {
				if !okBSUID(ct.UserID) || !okBSUID(ct.Parent) || !okPhone(ct.WaID) {
					dead = true // the contact of an invalid event
					continue
				}
				r.link(t, ct.UserID, ct.WaID, ct.Parent)
			}
			for _, m := range v.Messages {
				if m.ID == "" || !okBSUID(m.FromUserID) || !okBSUID(m.FromParent) || !okPhone(m.From) {
					dead = true
					continue
				}
				r.message(t, &m)
			}
			for _, s := range v.Statuses {
				if s.ID == "" || !okBSUID(s.RecipientUserID) || !okPhone(s.RecipientID) {
					dead = true
					continue
				}
				r.link(t, s.RecipientUserID, s.RecipientID, s.RecipientParent)
				if c.Field == "calls" {
					r.calls[s.ID] = true
					r.feature["callstatus:"+s.Status]++
					continue
				}
				if s.Status == "delivered" && r.rank[s.ID] == ranks["read"] {
					r.feature["read before delivered"]++
				}
				if s.Status == "sent" && r.rank[s.ID] == ranks["delivered"] {
					r.feature["delivered before sent"]++
				}
				r.outbound[s.ID] = true
				r.rank[s.ID] = max(r.rank[s.ID], ranks[s.Status])
				r.feature["status:"+s.Status]++
				if s.Pricing != nil {
					r.usage[s.ID] = true
					r.feature["pricing:"+s.Pricing.Category+"/"+s.Pricing.Type]++
				}
			}
			for _, cl := range v.Calls {
				r.calls[cl.ID] = true
				r.feature["call:"+cl.Direction+":"+cl.Event+":"+cl.Status]++
				if cl.Direction == "USER_INITIATED" {
					r.link(t, cl.FromUserID, cl.From, cl.FromParent)
				} else {
					r.link(t, cl.ToUserID, cl.To, cl.ToParent)
				}
				if cl.Event == "terminate" && !r.ended[cl.ID] {
					r.ended[cl.ID] = true
					r.seconds += cl.Duration
				}
			}
		}
	}
	return dead
}

func (r *recount) message(t string, m *msg) {
	if s := m.System; s != nil {
		r.system[m.ID] = true
		r.feature["system:"+s.Type]++
		r.link(t, s.Previous, s.UserID, s.WaID, m.From, s.Parent, s.PreviousParent)
		return
	}
	r.again = r.again || r.inbound[m.ID]
	r.inbound[m.ID] = true
	r.feature["message:"+m.Type]++
	r.link(t, m.FromUserID, m.From, m.FromParent)
	who := t + "|" + m.FromUserID
	if m.FromUserID == "" {
		who = t + "|" + m.From
	}
	if m.Referral != nil {
		r.refs[m.ID] = true
		r.leads = append(r.leads, [2]string{who, m.Referral.SourceID})
		if m.Referral.CtwaClid == "" {
			r.feature["referral without ctwa_clid"]++
		}
	}
	for _, c := range m.Contacts {
		r.feature["contacts origin "+c.Origin]++
		if c.Origin == "contact_request" { // a card shared by hand proves nothing
			r.shares[m.ID] = true
			r.link(t, m.FromUserID, c.Phones[0].WaID)
		}
	}
}
