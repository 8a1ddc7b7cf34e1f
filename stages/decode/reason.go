package decode

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/wapipe/wapipe/schemas"
)

// jsonReason turns an encoding/json error into a reason that names the field
// and speaks of JSON shapes rather than Go types, for dead-letter headers.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "the element"
		}
		return field + " is a JSON " + te.Value + ", want " + shape(te.Type)
	}
	s := strings.TrimPrefix(err.Error(), "json: ")
	// json.Number's own error names no field; say what it means at least.
	const pre, post = "invalid number literal, trying to unmarshal ", " into Number"
	if lit, ok := strings.CutPrefix(s, pre); ok {
		if q, err := strconv.Unquote(strings.TrimSuffix(lit, post)); err == nil {
			lit = q
		}
		return "a number field holds " + lit + ", want a number or a numeric string"
	}
	return s
}

var (
	numberType     = reflect.TypeFor[schemas.Number]()
	stringListType = reflect.TypeFor[schemas.StringList]()
)

func shape(t reflect.Type) string {
	switch t {
	case numberType:
		return "a number or a numeric string"
	case stringListType:
		return "a string or an array of strings"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return shape(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}
