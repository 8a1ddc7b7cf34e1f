package decode

import (
	"errors"
	"strings"
	"testing"
)

// A body with invalid UTF-8 is rejected whole, with where it broke, instead of writing
// broken text into report columns.
func TestInvalidUTF8IsABodyError(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}],"x":"Hola ` + "\xff\xfe" + `"}`)
	_, _, err := New(Config{}).Decode(body)
	var be *BodyError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "UTF-8") || !strings.Contains(err.Error(), "offset 82") {
		t.Fatalf("err = %v, want a BodyError naming UTF-8 and the offset", err)
	}
}
