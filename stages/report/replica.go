package report

import (
	"fmt"

	"github.com/wapipe/wapipe/model"
)

// Leads and a contact's latest touches belong to the contact, not to the partition that
// carried its referral: another worker may get the contact's next referral (a rebalance, a
// second business number) and must count on from the same lead and attribute with the same
// touches. So a worker publishes the lead state it changed beside its identity snapshots
// (LeadSnapshots), and every worker joins what others published (ImportLead): touch ids are
// a set, first and last touch widen, and the ad fields come from the latest touch.

// leadSnapshotFormat leads a lead snapshot, as 's' leads an identity snapshot.
const leadSnapshotFormat byte = 'l'

// LeadRef names one lead.
type LeadRef struct{ Tenant, Contact, Ad string }

// IsLeadSnapshot tells a lead snapshot from the identity snapshots on the same topic.
func IsLeadSnapshot(v []byte) bool { return len(v) > 0 && v[0] == leadSnapshotFormat }

// LeadSnapshots returns the topic key and value of each lead named (skipping leads merged
// away: the identity merge moves them on every worker), with its contact's latest touches.
func (b *Builder) LeadSnapshots(refs []LeadRef) (keys, values [][]byte, err error) {
	err = func() error {
		// As checkpointed, without the open batch's changes or the hot cache (this runs beside
		// the writer): a snapshot must not share touches a crash could still take back.
		txn := tx{st: b.st, checkpointed: true}
		for _, r := range refs {
			var l leadState
			found, err := txn.get(key(pfxLead, r.Tenant, r.Contact, r.Ad), l.decode)
			if err != nil {
				return err
			}
			if !found || l.touches == 0 {
				continue
			}
			ts, err := loadTouches(txn, r.Tenant, r.Contact)
			if err != nil {
				return err
			}
			e := enc{leadSnapshotFormat}
			e.s(r.Tenant)
			e.s(r.Contact)
			e.s(r.Ad)
			e.s(string(l.encode()))
			e.u(uint64(len(ts)))
			for _, t := range ts {
				e.s(t.ad)
				e.s(t.clid)
				e.i(t.at)
			}
			keys = append(keys, key("lead/", r.Tenant, r.Contact, r.Ad))
			values = append(values, e)
		}
		return nil
	}()
	return keys, values, err
}

// ImportLead joins another worker's lead snapshot into the lead of the contact it belongs
// to here (survivor follows identity merges) and returns the lead row whenever the newest
// row in ClickHouse may lack what this worker holds: when the lead changed, when the
// snapshot's row outranks ours without our touches, and when ours outranks but may have
// been lost (the snapshot read again after a crash). republish says that the snapshot
// lacks touches this worker holds: the identity topic is compacted, so this worker must
// publish its own snapshot of the lead, or a worker bootstrapping later never sees them.
func (b *Builder) ImportLead(v []byte, survivor func(tenant, contact string) (model.Who, error)) ([]model.Row, bool, error) {
	if !IsLeadSnapshot(v) {
		return nil, false, fmt.Errorf("%w: not a lead snapshot", ErrCorrupt)
	}
	d := dec{b: v[1:]}
	tenant, contact, ad, state := d.s(), d.s(), d.s(), d.s()
	var remote leadState
	if err := remote.decode([]byte(state)); err != nil || d.err != nil {
		return nil, false, fmt.Errorf("%w: lead snapshot %s/%s/%s", ErrCorrupt, tenant, contact, ad)
	}
	n := d.u()
	if n > maxTouches {
		return nil, false, fmt.Errorf("%w: lead snapshot with %d touches", ErrCorrupt, n)
	}
	ts := make(touches, n)
	for i := range ts {
		ts[i] = touch{ad: d.s(), clid: d.s(), at: d.i()}
	}
	if d.err != nil {
		return nil, false, fmt.Errorf("%w: lead snapshot %s/%s/%s", ErrCorrupt, tenant, contact, ad)
	}
	who, err := survivor(tenant, contact)
	if err != nil {
		return nil, false, err
	}
	var rows []model.Row
	var republish bool
	err = b.update(0, func(txn tx) error { // no event time: leads only
		rows, republish = rows[:0], false
		k := key(pfxLead, tenant, who.ContactID, ad)
		var local leadState
		if _, err := txn.get(k, local.decode); err != nil {
			return err
		}
		republish = local.touches > 0 && !remote.covers(&local)
		write := true
		switch {
		case !local.covers(&remote):
			local.touch(remote)
		case remote.rev >= local.rev && remote.covers(&local):
			// The same lead: the remote row, durable before it was published, already wins.
			write = false
		case remote.rev >= local.rev:
			// The remote row outranks ours in ClickHouse but lacks touches we hold: a
			// worker's rev counts its own changes, and a replay after a rebalance bumps it
			// without adding a touch. Ours goes again above it, or FINAL keeps the poorer one.
			local.rev = remote.rev + 1
		default:
			// Ours outranks and holds everything: a snapshot read again after a restart. The
			// batch that first wrote our row may be the one the stop cut off, so the row
			// goes again (same version, same values: it reads once).
			rows = append(rows, local.row(tenant, ad, who))
			write = false
		}
		if write {
			if err := txn.set(k, local.encode()); err != nil {
				return err
			}
			rows = append(rows, local.row(tenant, ad, who))
		}
		mine, err := loadTouches(txn, tenant, who.ContactID)
		if err != nil {
			return err
		}
		changed := false
		for _, t := range ts {
			var added bool
			if mine, added = mine.add(t); added {
				changed = true
			}
		}
		republish = republish || len(mine) > len(ts)
		if changed {
			return mine.save(txn, tenant, who.ContactID)
		}
		return nil
	})
	return rows, republish, err
}
