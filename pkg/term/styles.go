package term

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Styles are ksn's visual vocabulary, defined once. Every style still reads
// well with colour stripped: badges are words, not colours.
type Styles struct {
	r       *lipgloss.Renderer
	colour  bool
	badges  map[string]lipgloss.Style
	Dim     lipgloss.Style
	Bold    lipgloss.Style
	Heading lipgloss.Style
	Good    lipgloss.Style
	Bad     lipgloss.Style
}

// BadgeWidth is the width of a verdict badge, so paths line up after it.
const BadgeWidth = 10

func newStyles(r *lipgloss.Renderer, colour bool) *Styles {
	badge := func(fg, bg string) lipgloss.Style {
		return r.NewStyle().Bold(true).Foreground(lipgloss.Color(fg)).Background(lipgloss.Color(bg))
	}
	return &Styles{
		r:      r,
		colour: colour,
		badges: map[string]lipgloss.Style{
			"malicious":  badge("15", "160"),
			"suspicious": badge("0", "214"),
			"clean":      badge("0", "42"),
			"unknown":    badge("15", "240"),
			"skipped":    badge("0", "250"),
			"error":      badge("15", "93"),
		},
		Dim:     r.NewStyle().Faint(true),
		Bold:    r.NewStyle().Bold(true),
		Heading: r.NewStyle().Bold(true).Underline(true),
		Good:    r.NewStyle().Foreground(lipgloss.Color("42")),
		Bad:     r.NewStyle().Foreground(lipgloss.Color("160")).Bold(true),
	}
}

// Badge renders a status word (a verdict, "skipped", "error") as a fixed
// width badge, upper-cased so it stands out without colour too.
func (s *Styles) Badge(word string) string {
	st, ok := s.badges[word]
	if !ok {
		st = s.r.NewStyle().Bold(true)
	}
	label := strings.ToUpper(word)
	pad := ""
	if n := BadgeWidth - len(label); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	if !s.colour {
		return label + pad + " "
	}
	// In colour the badge is a block with a space either side of the word;
	// the padding stays outside it so the columns after it line up.
	return st.Render(" "+label+" ") + pad
}
