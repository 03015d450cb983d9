package mail

import (
	"strconv"
	"strings"

	"github.com/ksnproject/ksn/pkg/untrusted"
)

// Sep separates the names of a message and its parts:
// archive.mbox › #2 <id@host> › forwarded.eml › invoice.zip.
const Sep = " › "

// nameLen bounds a part's name and a Message-ID as shown: file names are
// at most 255 bytes on most systems, and a longer name is a trick.
const nameLen = 255

// Join joins names with Sep, skipping empty ones.
func Join(names ...string) string {
	kept := make([]string, 0, len(names))
	for _, n := range names {
		if n != "" {
			kept = append(kept, n)
		}
	}
	return strings.Join(kept, Sep)
}

// MboxName names the nth message of an mbox: "#2 <id@host>", or "#2"
// when it has no Message-ID. id is Message.ID (already sanitised).
func MboxName(n int, id string) string {
	s := "#" + strconv.Itoa(n)
	if id != "" {
		s += " " + id
	}
	return s
}

// displayName makes a name from a message safe to print and unable to
// pose as a path of parts: suspect characters escaped (untrusted.Text),
// "›" written as ">", leading and trailing spaces removed, at most
// nameLen characters.
func displayName(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "›", ">"))
	return untrusted.Text(s, nameLen)
}
