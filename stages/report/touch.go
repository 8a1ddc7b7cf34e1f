package report

// touch is one ad click of a contact: an inbound message with a referral.
type touch struct {
	ad, clid string
	at       int64
}

// touches are a contact's latest touches, newest first. Keeping a few rather than one lets an
// event that arrives after a newer touch still find the touch that was latest at its own time.
type touches []touch

const maxTouches = 4

func loadTouches(txn tx, tenant, contact string) (touches, error) {
	var ts touches
	_, err := txn.get(key(pfxTouch, tenant, contact), func(b []byte) error {
		d := newDec(b)
		n := d.u()
		if n > maxTouches {
			return ErrCorrupt
		}
		ts = make(touches, n)
		for i := range ts {
			ts[i] = touch{ad: d.s(), clid: d.s(), at: d.i()}
		}
		return d.err
	})
	return ts, err
}

func (ts touches) save(txn tx, tenant, contact string) error {
	e := make(enc, 0, 1+len(ts)*48)
	e = append(e, formatV1)
	e.u(uint64(len(ts)))
	for _, t := range ts {
		e.s(t.ad)
		e.s(t.clid)
		e.i(t.at)
	}
	// No TTL: one small value per contact that ever clicked an ad, like the contact itself; the
	// free-entry-point rule names the latest touch's ad however old it is.
	return txn.set(key(pfxTouch, tenant, contact), e)
}

// add inserts t in time order, dropping the oldest beyond maxTouches. It reports false when t is
// already there (a replay) or too old to matter.
func (ts touches) add(t touch) (touches, bool) {
	i := 0
	for ; i < len(ts) && ts[i].at > t.at; i++ {
	}
	for j := i; j < len(ts) && ts[j].at == t.at; j++ {
		if ts[j].ad == t.ad && ts[j].clid == t.clid {
			return ts, false
		}
	}
	if i >= maxTouches {
		return ts, false
	}
	ts = append(ts, touch{})
	copy(ts[i+1:], ts[i:])
	ts[i] = t
	if len(ts) > maxTouches {
		ts = ts[:maxTouches]
	}
	return ts, true
}

// latestBefore is the latest touch at or before at: the click that can have led to an event at at.
func (ts touches) latestBefore(at int64) (touch, bool) {
	for _, t := range ts {
		if t.at <= at {
			return t, true
		}
	}
	return touch{}, false
}

// attribute is the touch an event at at is attributed to: the latest touch before it, if the
// event is within window after it (contract 5: last touch wins, the window is in event time).
func (ts touches) attribute(at, window int64) (touch, bool) {
	t, ok := ts.latestBefore(at)
	if !ok || at > t.at+window {
		return touch{}, false
	}
	return t, true
}
