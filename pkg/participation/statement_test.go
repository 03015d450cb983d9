package participation

import (
	"testing"

	"github.com/ksnproject/ksn/pkg/statement"
)

// The client and the server must derive the same identity from the same
// text: participation's statement is the shared one, not a copy.
func TestStatementIsShared(t *testing.T) {
	if Builtin() != statement.Builtin() {
		t.Error("Builtin differs from statement.Builtin")
	}
	if got, want := NewStatement("", "text", "x"), statement.New("", "text", "x"); got != want {
		t.Errorf("NewStatement = %+v, statement.New = %+v", got, want)
	}
}
