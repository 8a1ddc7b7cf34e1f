// Package process is the sequential stage of the worker: for each decoded event it drops
// what was already counted, resolves the user to one contact, and builds the report rows.
// It runs on one goroutine in record order (the pipeline guarantees it), which is what lets
// identity and per-message state be read and written without locks of its own.
package process

import (
	"context"
	"strings"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/schemas"
	"github.com/wapipe/wapipe/stages/dedupe"
	"github.com/wapipe/wapipe/stages/report"
	"github.com/wapipe/wapipe/state"
	"github.com/wapipe/wapipe/unit"
)

// Stage holds the stores the sequential stage works on.
type Stage struct {
	Seen       *dedupe.Set
	Identities *identity.Store
	Reports    *report.Builder
	// State is the state both stores keep theirs in (their Config.State), checkpointed by
	// Flush once a batch.
	State *state.Store
	// Duplicates counts events dropped as already counted (may be nil).
	Duplicates func()
	// Self is this worker's id (HeaderWorker of the snapshots it publishes).
	Self string

	erased erasures // forget.go
}

// Process implements pipeline.Stages.Process.
func (s *Stage) Process(_ context.Context, u *unit.Unit) error {
	if len(u.Invalid) > 0 {
		reasons := make([]string, len(u.Invalid))
		for i, inv := range u.Invalid {
			reasons[i] = inv.String()
		}
		u.Reject("decode", unit.ReasonInvalidEvent, strings.Join(reasons, "; "))
	}
	for i := range u.Events {
		ev := &u.Events[i]
		key := s.Seen.Key(ev.DedupeKey)
		if s.Seen.Seen(key) {
			if s.Duplicates != nil {
				s.Duplicates()
			}
			continue
		}
		rows, err := s.apply(ev)
		if err != nil {
			return err
		}
		s.Seen.Hold(key)
		u.Seen = append(u.Seen, key)
		u.Rows = append(u.Rows, rows...)
	}
	return nil
}

// Flush implements pipeline.Stages.Flush, before a batch's rows go to the sink: the state
// changes of its records, with the record of the contacts they changed (identity.SealDirty),
// are checkpointed in one write, so the state is never behind the rows it emitted.
func (s *Stage) Flush() error {
	if err := s.Reports.Flush(); err != nil {
		return err
	}
	s.Identities.SealDirty()
	s.State.Seal()
	s.erased.flush(s.Identities.TakeErased()) // right after Seal: the sealed batch's
	return s.State.Checkpoint()
}

// Durable implements the end of pipeline.AfterDurable: the oldest flushed batch's rows are
// durable, so its contacts need no healing after a crash (identity.Store.Durable), and the
// contacts it erased (DurablyErased, repeated in ClickHouse before this) are dropped with it.
func (s *Stage) Durable() error {
	if err := s.Identities.Durable(); err != nil {
		return err
	}
	s.erased.checkpointed()
	return nil
}

// apply resolves one event's user and returns every row it changes.
func (s *Stage) apply(ev *model.Event) ([]model.Row, error) {
	res, err := s.resolve(ev)
	if err != nil {
		return nil, err
	}
	// Only what changed: the rows of a contact whose batch a crash cut off before it was
	// durable come back once, at start (identity.DirtyRows), not with every event.
	rows := res.Changed
	for _, r := range res.Changed {
		if id, ok := r.(*model.IdentityRow); ok && id.MergedInto != "" {
			merged, err := s.Reports.MergeContacts(ev.Tenant, id.ContactID, id.MergedInto, res.Who)
			if err != nil {
				return nil, err
			}
			rows = append(rows, merged...)
		}
	}
	reportRows, err := s.Reports.Rows(ev, res.Who)
	if err != nil {
		return nil, err
	}
	return append(rows, reportRows...), nil
}

// resolve applies contract section 4. A status that names no BSUID (a failed status sent
// to a phone) belongs to the contact its message was resolved to when it was sent.
func (s *Stage) resolve(ev *model.Event) (identity.Resolution, error) {
	if ev.User.BSUID == "" && (ev.Kind == model.KindStatus || ev.Kind == model.KindCall) {
		if res, ok, err := s.throughMessage(ev); err != nil || ok {
			return res, err
		}
	}
	if ev.User.BSUID == "" && ev.User.Phone == "" && ev.SharedPhone == "" && ev.PreviousBSUID == "" {
		return identity.Resolution{}, nil // nothing to resolve: the row keeps empty identity
	}
	return s.Identities.Resolve(factsOf(ev))
}

func (s *Stage) throughMessage(ev *model.Event) (identity.Resolution, bool, error) {
	contactID, ok, err := s.Reports.MessageContact(ev.Tenant, ev.ID)
	if err != nil || !ok {
		return identity.Resolution{}, false, err
	}
	who, ok, err := s.Identities.WhoOf(factsOf(ev), contactID)
	return identity.Resolution{Who: who}, ok, err
}

func factsOf(ev *model.Event) identity.Facts {
	f := identity.Facts{
		Tenant: ev.Tenant, At: ev.At,
		BSUID: ev.User.BSUID, ParentBSUID: ev.User.ParentBSUID, Phone: ev.User.Phone,
		Username: ev.User.Username, ProfileName: ev.User.ProfileName,
		PreviousBSUID: ev.PreviousBSUID, PreviousParentBSUID: ev.PreviousParentBSUID,
		PreviousPhone: ev.PreviousPhone,
		// A status names the recipient the business wrote to, a business-initiated call
		// the one it dialled: maybe a BSUID or phone the user has left since.
		Addressed: ev.Kind == model.KindStatus || ev.Kind == model.KindCall && ev.Direction == schemas.BusinessInitiated,
	}
	switch {
	case ev.Kind == model.KindIdentityChange && f.Phone != "":
		f.PhoneSource = model.PhoneFromSystem
	case f.Phone != "":
		f.PhoneSource = model.PhoneFromWebhook
	case ev.SharedPhone != "":
		f.Phone, f.PhoneSource = ev.SharedPhone, model.PhoneFromContactRequest
	}
	return f
}
