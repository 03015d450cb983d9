package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ksnproject/ksn/pkg/api"
)

// errTooManyItems reports a list longer than api.MaxBatch: decoding
// stopped at the cap, before the element after it was read.
var errTooManyItems = fmt.Errorf("more than %d items", api.MaxBatch)

// errEmptyBody reports a request without a body.
var errEmptyBody = errors.New("empty body")

// decodeBatch reads a request body that is one JSON object whose member
// list is an array of T, the batch's items. It decodes the array one
// element at a time, so that a body costs no more than its first
// api.MaxBatch items whatever it declares or holds: the element after the
// cap fails with errTooManyItems unread. item is called after each
// element with the count so far; an error from it (the license's rate
// spent) stops decoding and is returned as it is.
//
// fields are the object's other members, each decoded whole into the
// pointer given; members that are neither are skipped, as encoding/json
// skips unknown fields. A member given twice is an error (encoding/json
// would keep the last, and a list given twice would be decoded twice).
// Nothing but white space may follow the object.
func decodeBatch[T any](body io.Reader, list string, fields map[string]any, item func(n int) error) ([]T, error) {
	dec := json.NewDecoder(body)
	if tok, err := dec.Token(); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errEmptyBody
		}
		return nil, err
	} else if tok != json.Delim('{') {
		return nil, errors.New("the body must be a JSON object")
	}
	var items []T
	seen := make(map[string]bool, len(fields)+1)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		key, _ := tok.(string) // a member name: the decoder checked it is a string
		if seen[key] {
			return nil, fmt.Errorf("%q given twice", truncate(key))
		}
		seen[key] = true
		switch into, ok := fields[key]; {
		case key == list:
			items, err = decodeList[T](dec, list, item)
		case ok:
			err = unexpectedEOF(dec.Decode(into))
		default:
			var skip json.RawMessage
			err = unexpectedEOF(dec.Decode(&skip))
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, unexpectedEOF(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON document")
	}
	return items, nil
}

// decodeList reads the array of a batch's items (null is an empty one),
// calling item after each element.
func decodeList[T any](dec *json.Decoder, name string, item func(n int) error) ([]T, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, unexpectedEOF(err)
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("%s must be a list", name)
	}
	var out []T
	for dec.More() {
		if len(out) == api.MaxBatch {
			return nil, errTooManyItems
		}
		var v T
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", name, len(out), unexpectedEOF(err))
		}
		out = append(out, v)
		if err := item(len(out)); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, unexpectedEOF(err)
	}
	return out, nil
}

// unexpectedEOF turns the end of the body inside the document into the
// error that says so; other errors pass unchanged.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
