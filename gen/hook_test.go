package gen

// hook is the minimal view of a webhook body the recount needs; encoding/json matches
// the other field names case-insensitively.
type hook struct {
	Object string
	Entry  []struct {
		ID      string
		Changes []struct {
			Field string
			Value struct {
				Contacts []struct {
					WaID    string `json:"wa_id"`
					UserID  string `json:"user_id"`
					Parent  string `json:"parent_user_id"`
					Profile struct{ Username string }
				}
				Messages []msg
				Statuses []struct {
					ID, Status, Timestamp, Type string
					RecipientID                 string `json:"recipient_id"`
					RecipientUserID             string `json:"recipient_user_id"`
					RecipientParent             string `json:"recipient_parent_user_id"`
					Conversation                *struct{ ID string }
					Pricing                     *struct{ Category, Type string }
				}
				Calls []struct {
					ID, From, To, Event, Direction, Status, Timestamp string
					FromUserID                                        string `json:"from_user_id"`
					FromParent                                        string `json:"from_parent_user_id"`
					ToUserID                                          string `json:"to_user_id"`
					ToParent                                          string `json:"to_parent_user_id"`
					Duration                                          int64
				}
			}
		}
	}
}

type msg struct {
	ID, From, Type, Timestamp string
	FromUserID                string `json:"from_user_id"`
	FromParent                string `json:"from_parent_user_id"`
	Referral                  *struct {
		SourceID string `json:"source_id"`
		CtwaClid string `json:"ctwa_clid"`
	}
	System *struct {
		Type           string
		WaID           string `json:"wa_id"`
		UserID         string `json:"user_id"`
		Parent         string `json:"parent_user_id"`
		Previous       string `json:"previous_user_id"`
		PreviousParent string `json:"previous_parent_user_id"`
	}
	Contacts []struct {
		Origin string
		Phones []struct {
			WaID string `json:"wa_id"`
		}
	}
}
