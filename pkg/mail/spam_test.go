package mail

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// observe reads, walks and observes a test message.
func observe(t *testing.T, raw string, own Relays) Spam {
	t.Helper()
	w := walk(t, raw, Limits{})
	return Observe(w.msg, w.res, own)
}

func TestObserve(t *testing.T) {
	own, _ := ParseRelays([]string{"9.9.9.9"})
	s := observe(t, eicarMail, own)
	w := walk(t, eicarMail, Limits{})
	want := Spam{
		BodySHA256:  w.res.BodySHA256,
		Attachments: []string{eicarSHA256},
		Pictures:    []string{logoSHA256},
		SenderIPs:   []string{"8.8.4.4"},
		Judgement:   JudgementNone,
	}
	if s.BodySHA256 == "" || s.BodySHA256 != want.BodySHA256 || !slices.Equal(s.Attachments, want.Attachments) ||
		!slices.Equal(s.Pictures, want.Pictures) || !slices.Equal(s.SenderIPs, want.SenderIPs) || s.Judgement != want.Judgement {
		t.Errorf("Observe = %+v, want %+v", s, want)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	// Without the relay list, the own relay is a sender.
	if s := observe(t, eicarMail, nil); !slices.Equal(s.SenderIPs, []string{"8.8.4.4", "9.9.9.9"}) {
		t.Errorf("no relays: %q", s.SenderIPs)
	}
	if r := s.Report(JudgementSpam); r.Judgement != JudgementSpam || s.Judgement != JudgementNone {
		t.Errorf("Report changed the original or did not judge")
	}
	// The same attachment twice is listed once.
	twice := mixed(false, attachment("a", "7bit", eicar), attachment("b", "base64", "WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNULUZJTEUhJEgrSCo="))
	if s := observe(t, twice, nil); !slices.Equal(s.Attachments, []string{eicarSHA256}) {
		t.Errorf("twice: %q", s.Attachments)
	}
}

// TestSpamRecordHoldsNothingPersonal searches the records of every test
// message for their addresses, names, subjects, Message-IDs, file names
// and words of their bodies, and finds none.
func TestSpamRecordHoldsNothingPersonal(t *testing.T) {
	for _, raw := range []string{eicarMail, nestedMail, namesMail, qpMail} {
		for _, j := range []Judgement{JudgementNone, JudgementSpam, JudgementHam} {
			b, err := json.Marshal(observe(t, raw, nil).Report(j))
			if err != nil {
				t.Fatal(err)
			}
			lower := strings.ToLower(string(b))
			for _, p := range personal {
				if strings.Contains(lower, strings.ToLower(p)) {
					t.Errorf("the record %s holds %q", b, p)
				}
			}
			if strings.Contains(string(b), "@") || strings.Contains(string(b), "<") {
				t.Errorf("the record %s holds an address or a Message-ID", b)
			}
		}
	}
}

func TestSpamJSON(t *testing.T) {
	b, err := json.Marshal(Spam{Judgement: JudgementHam})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"body_sha256":"","attachment_sha256":[],"picture_sha256":[],"sender_ips":[],"judgement":"ham"}`
	if string(b) != want {
		t.Fatalf("JSON %s, want %s", b, want)
	}
	s := observe(t, eicarMail, nil)
	b, _ = json.Marshal(s)
	back, err := ParseSpam(b)
	if err != nil || back.BodySHA256 != s.BodySHA256 || !slices.Equal(back.Attachments, s.Attachments) || !slices.Equal(back.SenderIPs, s.SenderIPs) {
		t.Errorf("ParseSpam(%s) = %+v, %v", b, back, err)
	}
}

func TestParseSpamIsStrict(t *testing.T) {
	const h = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	good := `{"body_sha256":"` + h + `","attachment_sha256":["` + h + `"],"picture_sha256":[],"sender_ips":["8.8.4.4"],"judgement":"spam"}`
	if _, err := ParseSpam([]byte(good)); err != nil {
		t.Fatalf("ParseSpam(good): %v", err)
	}
	bad := map[string]string{
		"an extra field":           strings.Replace(good, `"judgement"`, `"subject":"x","judgement"`, 1),
		"a field twice":            strings.Replace(good, `"judgement":"spam"`, `"judgement":"spam","judgement":"ham"`, 1),
		"a missing field":          strings.Replace(good, `"picture_sha256":[],`, ``, 1),
		"a key in another case":    strings.Replace(good, `"judgement"`, `"Judgement"`, 1),
		"null array":               strings.Replace(good, `"picture_sha256":[]`, `"picture_sha256":null`, 1),
		"number in an array":       strings.Replace(good, `"picture_sha256":[]`, `"picture_sha256":[1]`, 1),
		"upper-case hex":           strings.Replace(good, `"body_sha256":"`+h, `"body_sha256":"`+strings.ToUpper(h), 1),
		"short digest":             strings.Replace(good, `["`+h+`"]`, `["abc"]`, 1),
		"a digest twice":           strings.Replace(good, `["`+h+`"]`, `["`+h+`","`+h+`"]`, 1),
		"a private address":        strings.Replace(good, `8.8.4.4`, `10.0.0.1`, 1),
		"an address not canonical": strings.Replace(good, `"8.8.4.4"`, `"2001:4860:4860:0::8888"`, 1),
		"a host name":              strings.Replace(good, `8.8.4.4`, `mail.example.com`, 1),
		"another judgement":        strings.Replace(good, `"spam"}`, `"maybe"}`, 1),
		"trailing data":            good + `{}`,
		"not an object":            `[]`,
		"a string body digest":     strings.Replace(good, `"body_sha256":"`+h+`"`, `"body_sha256":1`, 1),
	}
	for name, body := range bad {
		if _, err := ParseSpam([]byte(body)); err == nil {
			t.Errorf("%s: accepted %s", name, body)
		} else if strings.Contains(err.Error(), "mail.example.com") || strings.Contains(err.Error(), "subject") {
			t.Errorf("%s: the error quotes the body: %v", name, err)
		}
	}
}
