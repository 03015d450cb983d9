package mail

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// mixed builds a multipart/mixed message from parts (each its headers, a
// blank line and its body), closed unless open is true.
func mixed(open bool, parts ...string) string {
	var b strings.Builder
	b.WriteString("From: a@example.com\nMessage-ID: <bad@x>\nContent-Type: multipart/mixed; boundary=B\n\n")
	for _, p := range parts {
		b.WriteString("--B\n" + p + "\n")
	}
	if !open {
		b.WriteString("--B--\n")
	}
	return b.String()
}

func attachment(name, cte, body string) string {
	return fmt.Sprintf("Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=%s\nContent-Transfer-Encoding: %s\n\n%s", name, cte, body)
}

// problemCodes returns the codes and paths of a Result's problems.
func problemCodes(res *Result) []string {
	var out []string
	for _, p := range res.Problems {
		out = append(out, p.Code()+"@"+p.Path)
	}
	return out
}

func TestBadMail(t *testing.T) {
	full := "WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNU\nLUZJTEUhJEgrSCo="
	tests := []struct {
		name     string
		raw      string
		lim      Limits
		problems []string // code@path
		parts    []string // the parts with a digest: path=sha256, or path!err-code when incomplete or damaged
	}{
		{
			name:     "truncated base64: what decoded is kept",
			raw:      mixed(false, attachment("cut.com", "base64", full[:len(full)-7]), attachment("ok.com", "base64", full)),
			problems: []string{"truncated-base64@cut.com"},
			parts:    []string{"cut.com!truncated-base64", "ok.com=" + eicarSHA256},
		},
		{
			name:     "missing closing boundary: the last part as far as it goes",
			raw:      mixed(true, attachment("first.com", "base64", full), attachment("last.com", "7bit", eicar)),
			problems: []string{"missing-boundary@last.com"},
			parts:    []string{"first.com=" + eicarSHA256, "last.com!missing-boundary"},
		},
		{
			name: "missing closing boundary after a closed inner multipart",
			raw: mixed(true, "Content-Type: multipart/related; boundary=C\n\n--C\n"+attachment("inner.com", "7bit", eicar)+"\n--C--\n",
				attachment("after.com", "7bit", eicar)+"\n--B\n"+"Content-Type: multipart/alternative; boundary=D\n\n--D\n"+attachment("last.com", "7bit", eicar)+"\n--D--\nepilogue"),
			problems: []string{"missing-boundary@"},
			parts:    []string{"inner.com=" + eicarSHA256, "after.com=" + eicarSHA256, "last.com=" + eicarSHA256},
		},
		{
			name:     "no boundary in the body",
			raw:      "Content-Type: multipart/mixed; boundary=B\n\njust text\n",
			problems: []string{"malformed@"},
		},
		{
			name:     "multipart without a boundary parameter: one opaque part",
			raw:      "Content-Type: multipart/mixed\n\n" + eicar,
			problems: []string{"malformed@"},
			parts:    []string{"part 1=" + eicarSHA256},
		},
		{
			name:     "unreadable Content-Type: an attachment",
			raw:      mixed(false, "Content-Type: ;;;\n\n"+eicar),
			problems: []string{"malformed@part 2"},
			parts:    []string{"part 2=" + eicarSHA256},
		},
		{
			name:     "unknown transfer encoding: checked as sent",
			raw:      mixed(false, attachment("x.uu", "x-uuencode", "begin 644 x\n`\nend")),
			problems: []string{"unknown-encoding@x.uu"},
			parts:    []string{"x.uu!unknown-encoding"},
		},
		{
			name:     "attached message with a header over the limit",
			raw:      mixed(false, "Content-Type: message/rfc822; name=big.eml\n\nX-Pad: "+strings.Repeat("x", 3000)+"\n\nbody", attachment("after.com", "7bit", eicar)),
			lim:      Limits{HeaderBytes: 1024},
			problems: []string{"header-too-large@big.eml"},
			parts:    []string{"after.com=" + eicarSHA256},
		},
		{
			name:     "decoded bytes over the limit: the rest is skipped",
			raw:      mixed(false, attachment("a", "7bit", strings.Repeat("a", 400)), attachment("b", "7bit", strings.Repeat("b", 400)), attachment("c", "7bit", strings.Repeat("c", 400)), attachment("d", "7bit", "d")),
			lim:      Limits{DecodedBytes: 1000},
			problems: []string{"too-large@c"},
			parts:    []string{"a=" + sha([]byte(strings.Repeat("a", 400))), "b=" + sha([]byte(strings.Repeat("b", 400))), "c!too-large"},
		},
		{
			name:     "too many parts: the rest is skipped",
			raw:      mixed(false, attachment("1", "7bit", "1"), attachment("2", "7bit", "2"), attachment("3", "7bit", "3"), attachment("4", "7bit", "4")),
			lim:      Limits{Parts: 3},
			problems: []string{"too-many-parts@"},
			parts:    []string{"1=" + sha([]byte("1")), "2=" + sha([]byte("2"))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := walk(t, tt.raw, tt.lim)
			if w.res.Err != nil {
				t.Fatalf("Err %v", w.res.Err)
			}
			if got := problemCodes(w.res); strings.Join(got, " ") != strings.Join(tt.problems, " ") {
				t.Errorf("problems %q, want %q (%v)", got, tt.problems, w.res.Problems)
			}
			var got []string
			for _, p := range w.res.Parts {
				if p.Err != nil {
					var e *Error
					if !errors.As(p.Err, &e) {
						t.Errorf("%s: error %T %v is not a *Error", p.Name, p.Err, p.Err)
						continue
					}
					got = append(got, Join(p.Path...)+"!"+e.Code())
					if e.Code() != "too-large" && (p.SHA256 != sha(w.bytes[Join(p.Path...)]) || p.Size == 0) {
						t.Errorf("%s: damaged, but what decoded is not kept: %d bytes, %q", p.Name, p.Size, p.SHA256)
					}
					continue
				}
				got = append(got, Join(p.Path...)+"="+p.SHA256)
			}
			if strings.Join(got, " ") != strings.Join(tt.parts, " ") {
				t.Errorf("parts\n %q\nwant\n %q", got, tt.parts)
			}
		})
	}
}

// nested builds a message of n multiparts inside each other with an
// attachment at the bottom and one beside the outermost.
func nested(n int) string {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b0\n\n--b0\n")
	b.WriteString(attachment("top.com", "7bit", eicar) + "\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i-1, i)
	}
	fmt.Fprintf(&b, "--b%d\n%s\n", n, attachment("bottom.com", "7bit", eicar))
	for i := n; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\n", i)
	}
	return b.String()
}

func TestNestingDepth(t *testing.T) {
	w := walk(t, nested(10), Limits{})
	if got := names(w.res); strings.Join(got, ",") != "top.com,bottom.com" || len(w.res.Problems) > 0 {
		t.Fatalf("10 deep: parts %q, problems %v", got, w.res.Problems)
	}
	if d := w.res.Parts[1].Depth; d != 11 {
		t.Errorf("bottom.com at depth %d, want 11", d)
	}
	// 10,000 nested parts, the default limits: skipped below 32, no
	// panic, the rest still checked.
	w = walk(t, nested(10000), Limits{})
	if got := names(w.res); strings.Join(got, ",") != "top.com" {
		t.Errorf("10,000 deep: parts %q", got)
	}
	if got := problemCodes(w.res); len(got) != 1 || !strings.HasPrefix(got[0], "too-deep@part 3") {
		t.Errorf("10,000 deep: problems %q", got)
	}
}

func TestTenThousandParts(t *testing.T) {
	var parts []string
	for i := range 10005 {
		parts = append(parts, attachment(fmt.Sprint(i), "7bit", "x"))
	}
	w := walk(t, mixed(false, parts...), Limits{})
	// The message and its multipart are two of the 10,000.
	if len(w.res.Parts) != 9999 || len(w.seen) != 9999 {
		t.Errorf("%d parts checked, want 9,999", len(w.res.Parts))
	}
	if got := problemCodes(w.res); len(got) != 1 || got[0] != "too-many-parts@" {
		t.Errorf("problems %q", got)
	}
}

// countReader counts the bytes read from it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestHugeHeader: a 100 MB header block is refused after about the limit,
// not read.
func TestHugeHeader(t *testing.T) {
	pad := strings.NewReader("X-Pad: " + strings.Repeat("y", 998) + "\n")
	huge := io.MultiReader(strings.NewReader("From: a@example.com\n"), io.LimitReader(repeatReader{pad}, 100<<20), strings.NewReader("\nbody\n"))
	c := &countReader{r: huge}
	_, err := ReadMessage(c, Limits{})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrHeaderTooLarge) || e.Code() != "header-too-large" {
		t.Fatalf("ReadMessage: %v", err)
	}
	if c.n > DefaultLimits.HeaderBytes+64<<10 {
		t.Errorf("read %d bytes for a header limit of %d", c.n, DefaultLimits.HeaderBytes)
	}
}

// repeatReader reads a strings.Reader over and over.
type repeatReader struct{ r *strings.Reader }

func (r repeatReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err == io.EOF {
		r.r.Seek(0, io.SeekStart)
		return n, nil
	}
	return n, err
}

func TestMalformedHeader(t *testing.T) {
	for _, raw := range []string{"", "this is not a header\n\nbody", " continued: x\n\n"} {
		_, err := ReadMessage(strings.NewReader(raw), Limits{})
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("ReadMessage(%q): %v, want ErrMalformed", raw, err)
		}
	}
}

// TestReadErrorIsNotAProblem: the file failing is Result.Err, not a
// problem of the message.
func TestReadErrorIsNotAProblem(t *testing.T) {
	broken := errFixed("disk on fire")
	r := io.MultiReader(strings.NewReader(mixed(true, attachment("x", "7bit", "abc"))), errReader{broken})
	m, err := ReadMessage(r, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	res := m.Walk(func(p *Part) error { _, err := io.ReadAll(p.Body); return err })
	if !errors.Is(res.Err, broken) {
		t.Errorf("Err %v, problems %v", res.Err, res.Problems)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
