package gen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// examplesDir is shared/ beside the repository, as in every checkout and in CI.
const examplesDir = "../../shared/webhooks/examples"

// extraPaths are fields the generator writes that no example shows, each documented
// in shared/docs/whatsapp-webhooks.md (sections 1-5) or Meta's message references.
var extraPaths = []string{
	".entry[].changes[].value.calls[].from", ".entry[].changes[].value.calls[].from_parent_user_id",
	".entry[].changes[].value.calls[].to_user_id", ".entry[].changes[].value.calls[].to_parent_user_id",
	".entry[].changes[].value.calls[].session", ".entry[].changes[].value.calls[].session.sdp_type",
	".entry[].changes[].value.calls[].session.sdp",
	".entry[].changes[].value.statuses[].recipient_parent_user_id",
	".entry[].changes[].value.statuses[].conversation", ".entry[].changes[].value.statuses[].conversation.id",
	".entry[].changes[].value.statuses[].conversation.expiration_timestamp",
	".entry[].changes[].value.statuses[].conversation.origin", ".entry[].changes[].value.statuses[].conversation.origin.type",
	".entry[].changes[].value.messages[].from_parent_user_id",
	".entry[].changes[].value.messages[].context", ".entry[].changes[].value.messages[].context.from",
	".entry[].changes[].value.messages[].context.id",
	".entry[].changes[].value.messages[].image", ".entry[].changes[].value.messages[].image.caption",
	".entry[].changes[].value.messages[].image.mime_type", ".entry[].changes[].value.messages[].image.sha256",
	".entry[].changes[].value.messages[].image.id",
	".entry[].changes[].value.messages[].location", ".entry[].changes[].value.messages[].location.latitude",
	".entry[].changes[].value.messages[].location.longitude", ".entry[].changes[].value.messages[].location.name",
	".entry[].changes[].value.messages[].location.address",
	".entry[].changes[].value.messages[].interactive", ".entry[].changes[].value.messages[].interactive.type",
	".entry[].changes[].value.messages[].interactive.button_reply",
	".entry[].changes[].value.messages[].interactive.button_reply.id",
	".entry[].changes[].value.messages[].interactive.button_reply.title",
	".entry[].changes[].value.messages[].reaction", ".entry[].changes[].value.messages[].reaction.message_id",
	".entry[].changes[].value.messages[].reaction.emoji",
	".entry[].changes[].value.messages[].contacts[].vcard",
	".entry[].changes[].value.messages[].referral.image_url",

	".entry[].changes[].value.messages[].system.wa_id", ".entry[].changes[].value.messages[].system.parent_user_id",
	".entry[].changes[].value.messages[].system.previous_parent_user_id",
}

// objects walks JSON text and calls fn with every object's path and keys, in order.
func objects(data []byte, fn func(path string, keys []string)) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			var keys []string
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				keys = append(keys, k.(string))
				if err := walk(path + "." + k.(string)); err != nil {
					return err
				}
			}
			fn(path, keys)
			_, err = dec.Token()
		case json.Delim('['):
			for dec.More() {
				if err := walk(path + "[]"); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		return err
	}
	return walk("")
}

// TestShapeMatchesExamples: generated bodies use the examples' field names (plus the
// documented extras), every field of every example occurs, and fields come in the
// examples' order.
func TestShapeMatchesExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no examples in %s", examplesDir)
		}
		t.Skipf("no examples in %s (shared/ not beside the repository)", examplesDir)
	}
	known, before := map[string]bool{}, map[string]bool{} // path.key; path|a|b: a comes before b
	record := func(path string, keys []string) {
		for i, k := range keys {
			known[path+"."+k] = true
			for _, l := range keys[i+1:] {
				before[path+"|"+k+"|"+l] = true
			}
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := objects(data, record); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	allowed := map[string]bool{}
	for _, p := range extraPaths {
		allowed[p] = true
	}
	seen, problems := map[string]bool{}, map[string]bool{}
	g := New(Config{Seed: 11, Webhooks: 20000})
	for b, ok := g.Next(); ok; b, ok = g.Next() {
		err := objects(b.Value, func(path string, keys []string) {
			for i, k := range keys {
				p := path + "." + k
				seen[p] = true
				if !known[p] && !allowed[p] {
					problems["unknown field "+p] = true
				}
				for _, l := range keys[i+1:] {
					if before[path+"|"+l+"|"+k] {
						problems["order: "+path+": "+k+" before "+l] = true
					}
				}
			}
		})
		if err != nil {
			t.Fatalf("%v: %s", err, b.Value)
		}
	}
	for p := range known {
		if !seen[p] {
			problems["never generated: "+p] = true
		}
	}
	list := make([]string, 0, len(problems))
	for p := range problems {
		list = append(list, p)
	}
	sort.Strings(list)
	for _, p := range list {
		t.Error(p)
	}
}
