package unit

import "testing"

// A dead letter's reason label stays in the fixed set whatever a stage passes, and a second
// rejection adds its text without changing the first one's kind.
func TestRejectKeepsTheReasonBounded(t *testing.T) {
	var u Unit
	u.Reject("decode", Reason("free text from a stage"), "first")
	u.Reject("sink", ReasonRowRejected, "second")
	if dl := u.DeadLetter; dl.Why != ReasonOther || dl.Stage != "decode" || dl.Reason != "first; second" {
		t.Fatalf("dead letter %+v", dl)
	}
	var v Unit
	v.Reject("process", ReasonPanic, "panic: boom")
	if v.DeadLetter.Why != ReasonPanic {
		t.Fatalf("a listed reason became %q", v.DeadLetter.Why)
	}
}
