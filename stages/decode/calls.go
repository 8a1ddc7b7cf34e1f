package decode

import (
	"strings"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/schemas"
)

// call turns a calls[] element (connect or terminate) into a call event.
func (b *builder) call(i int, k *schemas.Call) {
	event := strings.ToLower(k.Event)
	switch event {
	case schemas.CallConnect, schemas.CallTerminate:
	case "": // reported below, after a missing id or an undecodable element
	default:
		b.d.unknown(UnknownCallEvent, k.Event)
		return
	}
	ev, c := b.open(model.KindCall, k.ID, b.rejected.reason(b.rejected.calls, i))
	if event == "" {
		c.fail("missing event")
	}
	ev.CallEvent = event
	ev.DedupeKey = k.ID + "|" + event
	ev.At = c.time("timestamp", k.Timestamp, true)
	ev.Direction = strings.ToUpper(k.Direction)
	ev.Status = b.callStatusOf(event, k.Status)
	ev.StartTime = c.time("start_time", k.StartTime, false)
	ev.EndTime = c.time("end_time", k.EndTime, false)
	ev.Duration = c.duration("duration", k.Duration)
	ev.ErrorCode = c.errorCode("errors[0].code", k.Errors)

	// The user is the caller of a user-initiated call and the callee of a
	// business-initiated one; the other side is the business's own number.
	switch ev.Direction {
	case schemas.UserInitiated:
		ev.User = b.caller(&c, &fromSide, k.From, k.FromUserID, k.FromParentUserID)
	case schemas.BusinessInitiated:
		ev.User = b.caller(&c, &toSide, k.To, k.ToUserID, k.ToParentUserID)
	case "":
		c.fail("missing direction")
	default:
		c.fail("direction " + quote(k.Direction) + " is not USER_INITIATED or BUSINESS_INITIATED")
	}
	b.close(&c, "calls", i)
}

// callSide names the fields of one side of a call, for reasons.
type callSide struct{ phone, bsuid, parent string }

var (
	fromSide = callSide{"from", "from_user_id", "from_parent_user_id"}
	toSide   = callSide{"to", "to_user_id", "to_parent_user_id"}
)

// caller reads the user's side of a call.
func (b *builder) caller(c *check, side *callSide, phone, bsuid, parent string) model.Identity {
	u := model.Identity{
		BSUID:       c.bsuid(side.bsuid, bsuid),
		ParentBSUID: c.bsuid(side.parent, parent),
		Phone:       c.phone(side.phone, phone),
	}
	ct := b.contactOf(u.BSUID, u.Phone)
	u.Username, u.ProfileName = ct.Profile.Username, ct.Profile.Name
	contactFacts(c, &u, ct)
	if u.BSUID == "" && u.Phone == "" {
		c.fail("no user identity (no " + side.bsuid + ", " + side.phone + ", or matching contact)")
	}
	return u
}

// callStatusOf is the upper-case status a call event sets: CONNECTED for a
// connect; for a terminate, its status. Meta's calling page shows the status as
// a title-case array (["Failed", "Completed"]); the last recognised element is
// taken, it being the call's final state, else the last element as sent.
// A terminate without a status has none ("").
func (b *builder) callStatusOf(event string, status schemas.StringList) string {
	if event == schemas.CallConnect {
		return "CONNECTED"
	}
	for k := len(status) - 1; k >= 0; k-- {
		if s := strings.ToUpper(status[k]); s == "COMPLETED" || s == "FAILED" {
			return s
		}
	}
	if len(status) == 0 {
		return ""
	}
	last := status[len(status)-1]
	b.d.unknown(UnknownCallStatus, last)
	return strings.ToUpper(last)
}
