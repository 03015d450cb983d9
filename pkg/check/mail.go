package check

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/mail"
)

// MailOptions say how mail files are read: each message's attachments and
// pictures become items of their own, and each message gets the spam
// statistics a participant at the extended level would submit.
type MailOptions struct {
	// Relays are the user's own mail relays: their addresses are left out
	// of the sender addresses of the spam statistics.
	Relays mail.Relays
	Limits mail.Limits // zero: mail.DefaultLimits
}

// ParseRelays reads the mail.own_relays setting: addresses and CIDR
// prefixes separated by commas or spaces.
func ParseRelays(list string) (mail.Relays, error) {
	return mail.ParseRelays(strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }))
}

// sniffMail tells mail by content and name from the start of a file, as
// the checksum engine reads it: no file is opened twice to find out.
func sniffMail(path string, head []byte) bool { return mail.Detect(path, head) != mail.FormatNone }

// mailReader expands the mail items of a batch.
type mailReader struct {
	opts MailOptions
	algs []checksum.Algorithm
}

// expand returns batch with each mail file followed by its messages (for
// an mbox) and their attachments and pictures, each naming its parent.
// A message or part that cannot be read is an item with its error; the
// rest is still read.
func (mr *mailReader) expand(batch []Item) []Item {
	if mr == nil {
		return batch
	}
	var out []Item
	for i, it := range batch {
		if it.Err != nil || !it.Sniffed || it.Path == "-" {
			if out != nil {
				out = append(out, it)
			}
			continue
		}
		if out == nil {
			out = append(make([]Item, 0, len(batch)+8), batch[:i]...)
		}
		at := len(out)
		out = append(out, it)
		out = mr.file(out, at)
	}
	if out == nil {
		return batch
	}
	return out
}

// file reads the mail file of out[at] and appends what it holds.
func (mr *mailReader) file(out []Item, at int) []Item {
	parent := out[at]
	f, err := os.Open(parent.Path)
	if err != nil {
		return append(out, child(parent, at, mail.Join(parent.Path, "(mail)"), err))
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	head, _ := r.Peek(mail.SniffLen)
	switch mail.Detect(parent.Path, head) {
	case mail.FormatMessage:
		m, err := mail.ReadMessage(r, mr.opts.Limits)
		if err != nil {
			return append(out, child(parent, at, mail.Join(parent.Path, "(message)"), err))
		}
		var spam mail.Spam
		out, spam = mr.message(out, at, parent.Path, m)
		out[at].Spam = &spam
	case mail.FormatMbox:
		mb := mail.NewMbox(r)
		for {
			msg, err := mb.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return append(out, child(parent, at, mail.Join(parent.Path, "(mbox)"), err))
			}
			out = mr.mboxMessage(out, at, msg)
		}
	}
	return out
}

// mboxMessage appends one message of an mbox, hashed as it is parsed,
// and its parts.
func (mr *mailReader) mboxMessage(out []Item, at int, msg *mail.MboxMessage) []Item {
	start := time.Now()
	h := checksum.NewHasher(mr.algs)
	tee := io.TeeReader(msg, h)
	m, err := mail.ReadMessage(tee, mr.opts.Limits)
	name := mail.Join(out[at].Path, mail.MboxName(msg.Number, ""))
	if err != nil {
		_, _ = io.Copy(io.Discard, tee)
		return append(out, child(out[at], at, name, err))
	}
	name = mail.Join(out[at].Path, mail.MboxName(msg.Number, m.ID))
	here := len(out)
	out = append(out, child(out[at], at, name, nil))
	out, spam := mr.message(out, here, name, m)
	_, _ = io.Copy(io.Discard, tee) // what the walk left unread still counts in the digests
	it := &out[here]
	it.Size, it.Digests = h.Sum()
	it.Spam, it.Elapsed = &spam, time.Since(start)
	return out
}

// message walks one message, whose item is out[at] named name: one item
// per attachment and picture, one per problem the walk met outside them.
func (mr *mailReader) message(out []Item, at int, name string, m *mail.Message) ([]Item, mail.Spam) {
	type hashed struct {
		size    int64
		digests checksum.Digests
		elapsed time.Duration
	}
	var got []hashed
	res := m.Walk(func(p *mail.Part) error {
		start := time.Now()
		n, d, err := checksum.Reader(p.Body, mr.algs)
		if err != nil {
			d = nil // incomplete: the part's error says why
		}
		got = append(got, hashed{n, d, time.Since(start)})
		return nil
	})
	partPaths := map[string]bool{}
	for i, p := range res.Parts {
		path := mail.Join(append([]string{name}, p.Path...)...)
		partPaths[path] = true
		it := child(out[at], at, path, p.Err)
		if i < len(got) && p.Err == nil {
			it.Size, it.Digests, it.Elapsed = got[i].size, got[i].digests, got[i].elapsed
			if it.Digests == nil {
				it.Err = errors.New("could not be read whole")
			}
		} else if p.Err == nil {
			it.Err = errors.New("not read")
		}
		out = append(out, it)
	}
	for _, pr := range res.Problems {
		if path := mail.Join(name, pr.Path); !partPaths[path] {
			out = append(out, child(out[at], at, mail.Join(name, "(message)"), pr))
		}
	}
	if res.Err != nil {
		out = append(out, child(out[at], at, mail.Join(name, "(message)"), res.Err))
	}
	return out, mail.Observe(m, res, mr.opts.Relays)
}

// child is an item inside parent (at index at of the batch).
func child(parent Item, at int, path string, err error) Item {
	it := Item{Parent: parent.Path, parent: at + 1}
	it.Path, it.Err, it.Cached = path, err, parent.Cached
	return it
}

// ObserveMail reads the mail file at path (a message or an mbox) and
// returns the spam statistics of each message it could read, with the
// items of those it could not (their errors): what `ksn mail report`
// records with the participant's judgement.
func ObserveMail(path string, opts MailOptions) ([]mail.Spam, []Item) {
	mr := &mailReader{opts: opts, algs: []checksum.Algorithm{checksum.SHA256}}
	items := mr.file([]Item{{Result: checksum.Result{Path: path}}}, 0)
	var spams []mail.Spam
	var bad []Item
	for _, it := range items {
		switch {
		case it.Spam != nil:
			spams = append(spams, *it.Spam)
		case it.Err != nil:
			bad = append(bad, it)
		}
	}
	return spams, bad
}
