package feeds

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/store"
)

func TestReports(t *testing.T) {
	cvd := &CVDInfo{
		Header:      CVDHeader{Version: 27000, Built: "01 Mar 2026 10-00 +0000", Builder: "ksn", Signatures: 3, Level: 90},
		MD5Verified: true,
		Members:     []CVDMember{{Name: "daily.hsb", Summary: Summary{Indicators: 2}}, {Name: "daily.hdb", Summary: Summary{Indicators: 1}}},
		Skipped:     map[string]int{".ndb": 4},
	}
	imported := Imported{Format: "clamav-cvd", Summary: Summary{Indicators: 3, Malformed: 1, Errors: []LineError{{Line: 7, Err: errors.New("bad digest\x1b[2J")}}},
		Stats: store.ImportStats{Added: 2, Unchanged: 1}, Elapsed: 1500 * time.Millisecond, CVD: cvd}
	tests := []struct {
		name string
		got  any
		want []string // substrings of the JSON, in order
		not  []string
	}{
		{"import", imported.Report("daily.cvd"), []string{
			`"file":"daily.cvd","format":"clamav-cvd","indicators":3,"added":2,"updated":0,"unchanged":1,"malformed":1`,
			`"malformed_lines":["line 7: bad digest\u001b[2J"]`, `"elapsed_ms":1500`,
			`"clamav":{"version":27000,`, `"signature_verified":false,"md5_verified":true`,
			`"members":{"daily.hdb":1,"daily.hsb":2},"skipped":{".ndb":4}}`,
		}, []string{`"error"`, "\x1b"}},
		{"failed import", FailedImport("x.csv", errors.New("x.csv: no such file")), []string{
			`"file":"x.csv","indicators":0`, `"error":"x.csv: no such file"`,
		}, []string{`"clamav"`, `"malformed_lines"`, `"format"`}},
		{"update", UpdateResult{Feed: Feed{Name: "daily", URL: "https://db.example/daily.cvd"}, Outcome: Updated,
			Imported: &imported, Bytes: 4096, Elapsed: time.Second}.Report(), []string{
			`"feed":"daily","outcome":"updated","not_modified":false,"bytes":4096,"elapsed_ms":1000`,
			`"import":{"file":"https://db.example/daily.cvd",`,
		}, []string{`"reason"`, `"error"`}},
		{"failed update", UpdateResult{Feed: Feed{Name: "mb"}, Outcome: Failed,
			Err: &UpdateError{Reason: ReasonLimited, Err: errors.New("429 Too Many Requests")}}.Report(), []string{
			`"outcome":"failed"`, `"reason":"rate-limited","error":"429 Too Many Requests"`,
		}, []string{`"import"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.got)
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			rest := s
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("%s\nlacks (in order) %s", s, w)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.not {
				if strings.Contains(s, n) {
					t.Errorf("%s\nholds %q", s, n)
				}
			}
		})
	}
	if got := UpdateReports(nil); got == nil || len(got) != 0 {
		t.Errorf("UpdateReports(nil) = %#v, want an empty array (printed as [])", got)
	}
}
