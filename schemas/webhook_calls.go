package schemas

import (
	"encoding/json"
	"reflect"
)

// Call events (Call.Event).
const (
	CallConnect   = "connect"
	CallTerminate = "terminate"
)

// Call directions (Call.Direction), compared case-insensitively.
const (
	UserInitiated     = "USER_INITIATED"
	BusinessInitiated = "BUSINESS_INITIATED"
)

// Call is an element of value.calls[] on the calls field. The user is the From
// side of a USER_INITIATED call and the To side of a BUSINESS_INITIATED one; the
// other side is the business's own number. The user's phone (From or To) is left
// out when Meta will not share it; the *UserID fields carry the BSUID.
type Call struct {
	ID               string `json:"id"`
	Event            string `json:"event"`
	Direction        string `json:"direction"`
	Timestamp        Number `json:"timestamp"`
	From             string `json:"from"`
	FromUserID       string `json:"from_user_id"`
	FromParentUserID string `json:"from_parent_user_id"`
	To               string `json:"to"`
	ToUserID         string `json:"to_user_id"`
	ToParentUserID   string `json:"to_parent_user_id"`

	// Terminate only. Status is "COMPLETED" or "FAILED" in M1 and pywa, but M6
	// shows a title-case array (["Failed", "Completed"]).
	Status    StringList `json:"status"`
	StartTime Number     `json:"start_time"`
	EndTime   Number     `json:"end_time"`
	Duration  Number     `json:"duration"`

	BizOpaqueCallbackData string   `json:"biz_opaque_callback_data"`
	Session               *Session `json:"session"` // connect only
	Errors                []Error  `json:"errors"`
}

// Session is the SDP offer or answer of a connect event.
type Session struct {
	SDPType string `json:"sdp_type"`
	SDP     string `json:"sdp"`
}

// StringList is a JSON string or an array of strings; a single string becomes a
// list of one, null an empty list.
type StringList []string

// UnmarshalJSON accepts "X", ["X", "Y"] and null. Anything else is a
// *json.UnmarshalTypeError, which encoding/json completes with the field name.
func (l *StringList) UnmarshalJSON(data []byte) error {
	for len(data) > 0 && isJSONSpace(data[0]) {
		data = data[1:]
	}
	if len(data) == 0 {
		return stringListError("nothing")
	}
	switch data[0] {
	case 'n':
		*l = nil
		return json.Unmarshal(data, new(any))
	case '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*l = StringList{s}
		return nil
	case '[':
		var list []string
		if err := json.Unmarshal(data, &list); err != nil {
			return stringListError("array of non-strings")
		}
		*l = list
		return nil
	case '{':
		return stringListError("object")
	case 't', 'f':
		return stringListError("bool")
	}
	return stringListError("number")
}

func stringListError(got string) error {
	return &json.UnmarshalTypeError{Value: got, Type: reflect.TypeFor[StringList]()}
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
