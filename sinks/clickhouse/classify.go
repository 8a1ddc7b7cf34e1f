package clickhouse

import (
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
)

// Classes of insert errors, as Classify names them (and the errors metric labels them).
const (
	// ClassTransient: the server or the network, not the rows: connection refused or reset, EOF, timeouts,
	// a cancelled or expired context, TOO_MANY_PARTS, MEMORY_LIMIT_EXCEEDED, TABLE_IS_READ_ONLY, ...
	ClassTransient = "transient"
	// ClassSchema: the table, column or database the rows need is missing or different, which is what a
	// worker deployed before `wapipe migrate` sees. Retried like a transient error: dead-lettering every row
	// of a table because a migration has not run yet would turn a deploy mistake into data to replay.
	ClassSchema = "schema"
	// ClassPermanent: a row the table rejects (a value of the wrong type or out of range). Retrying cannot
	// help; InsertSplitting isolates the row.
	ClassPermanent = "permanent"
)

// RowError says which row of an Insert could not be encoded for its table; it is permanent.
type RowError struct {
	Index int // position in the rows passed to Insert
	Err   error
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %v", e.Index, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// ErrUnknownTable is returned for a table name that model.Columns does not know: a caller's bug.
var ErrUnknownTable = errors.New("clickhouse: unknown table")

// schemaCodes are server exceptions that mean the schema does not match what the rows need.
var schemaCodes = map[int32]bool{
	8:  true, // THERE_IS_NO_COLUMN
	10: true, // NOT_FOUND_COLUMN_IN_BLOCK
	16: true, // NO_SUCH_COLUMN_IN_TABLE
	20: true, // NUMBER_OF_COLUMNS_DOESNT_MATCH
	47: true, // UNKNOWN_IDENTIFIER
	60: true, // UNKNOWN_TABLE
	81: true, // UNKNOWN_DATABASE
}

// rowCodes are server exceptions that blame the data sent, so splitting the batch can find the culprit.
// With the native protocol the client encodes typed columns and such errors are rare; they are listed for
// servers that check more than 18.16 does (constraints, range checks).
var rowCodes = map[int32]bool{
	6:   true, // CANNOT_PARSE_TEXT
	27:  true, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
	38:  true, // CANNOT_PARSE_DATE
	41:  true, // CANNOT_PARSE_DATETIME
	53:  true, // TYPE_MISMATCH
	69:  true, // ARGUMENT_OUT_OF_BOUND
	70:  true, // CANNOT_CONVERT_TYPE
	72:  true, // CANNOT_PARSE_NUMBER
	117: true, // INCORRECT_DATA
	321: true, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
	349: true, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
	469: true, // VIOLATED_CONSTRAINT
}

// Classify names the class of an insert error ("" for nil).
//
// Anything not recognised as a rejected row is transient: this package wraps every encoding failure of its
// own in RowError, so what is left comes from the network, the pool or the server (TOO_MANY_PARTS 252,
// TIMEOUT_EXCEEDED 159, SOCKET_TIMEOUT 209, NETWORK_ERROR 210, MEMORY_LIMIT_EXCEEDED 241, TABLE_IS_READ_ONLY
// 242, TOO_MANY_SIMULTANEOUS_QUERIES 202, ...). Erring this way stalls the pipeline loudly instead of
// dead-lettering good rows.
func Classify(err error) string {
	if err == nil {
		return ""
	}
	var rowErr *RowError
	var conv *column.ColumnConverterError
	if errors.As(err, &rowErr) || errors.As(err, &conv) || errors.Is(err, ErrUnknownTable) {
		return ClassPermanent
	}
	var exc *clickhouse.Exception
	if errors.As(err, &exc) {
		switch {
		case schemaCodes[exc.Code]:
			return ClassSchema
		case rowCodes[exc.Code]:
			return ClassPermanent
		}
	}
	return ClassTransient
}

// IsTransient says whether retrying the same rows later can succeed (classes transient and schema).
func IsTransient(err error) bool {
	c := Classify(err)
	return c == ClassTransient || c == ClassSchema
}
