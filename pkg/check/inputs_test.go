package check

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ksnproject/ksn/pkg/exitcode"
)

func TestList(t *testing.T) {
	tests := []struct {
		name string
		args []string
		list string
		null bool
		want []string
	}{
		{"lines", []string{"a"}, "b\r\n\nc", false, []string{"a", "b", "c"}},
		{"nul", nil, "x\ny\x00z\x00", true, []string{"x\ny", "z"}},
		{"empty", []string{"only"}, "", false, []string{"only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for p, err := range List(tt.args, strings.NewReader(tt.list), tt.null) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, p)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestListReadError(t *testing.T) {
	var err error
	for _, e := range List(nil, iotest.ErrReader(errors.New("EIO")), false) {
		err = e
	}
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "--files-from: EIO") {
		t.Fatalf("err %v, want a usage error naming --files-from", err)
	}
}
