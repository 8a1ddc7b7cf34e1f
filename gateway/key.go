package gateway

import "github.com/bytedance/sonic"

// maxEntriesScanned bounds how many entries key looks through for the first change.
const maxEntriesScanned = 16

// Key is the Kafka key of a webhook body (contract sections 2 and 8): the
// entry[].changes[0].value.metadata.phone_number_id of the first change, so that one business
// number's traffic stays in order on one partition. It is nil when the body has no change,
// the first change names no phone_number_id, or the body is not JSON. sonic's searcher
// skips what it does not need without building it, so a 100 KB body costs microseconds.
func Key(body []byte) (key []byte) {
	defer func() {
		if recover() != nil { // a body that trips the searcher is forwarded unkeyed
			key = nil
		}
	}()
	for i := 0; i < maxEntriesScanned; i++ {
		entry, err := sonic.Get(body, "entry", i)
		if err != nil {
			return nil
		}
		change := entry.Get("changes").Index(0)
		if change == nil || !change.Exists() {
			continue // an entry without changes: the first change is in a later entry
		}
		id, err := change.GetByPath("value", "metadata", "phone_number_id").String()
		if err != nil || id == "" {
			return nil
		}
		return []byte(id)
	}
	return nil
}
