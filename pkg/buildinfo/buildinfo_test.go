package buildinfo

import (
	"encoding/json"
	"runtime"
	"testing"
)

func TestInfo(t *testing.T) {
	v := Info{Version: "1.2.3", Go: "go1.26.0", Platform: "linux/amd64"}
	if s := v.String(); s != "1.2.3 (go1.26.0, linux/amd64)" {
		t.Errorf("String: %q", s)
	}
	if b, _ := json.Marshal(v); string(b) != `{"version":"1.2.3","go":"go1.26.0","platform":"linux/amd64"}` {
		t.Errorf("JSON: %s", b)
	}
	if r := Read("dev"); r.Version != "dev" || r.Go != runtime.Version() || r.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("Read: %+v", r)
	}
}
