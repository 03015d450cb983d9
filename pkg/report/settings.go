package report

import (
	"fmt"
	"io"

	"github.com/ksnproject/ksn/pkg/buildinfo"
	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/term"
)

// settingJSON is one setting in `ksn config list --json`.
type settingJSON struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Source  string `json:"source"`
	Default string `json:"default"`
}

// Settings is `ksn config list`: every setting, its value and where the
// value comes from, as a JSON array or one aligned line each.
func Settings(ios *term.IOStreams, values []config.Value, asJSON bool) error {
	if asJSON {
		var items []settingJSON
		for _, v := range values {
			items = append(items, settingJSON{v.Key.Name, v.Value, v.Source, v.Key.Default})
		}
		return JSONLine(ios.Out, items)
	}
	for _, v := range values {
		fmt.Fprintf(ios.Out, "%-20s %-28s %s\n", v.Key.Name, fmt.Sprintf("%q", v.Value), ios.Styles().Dim.Render(v.Source))
	}
	return nil
}

// SettingSet says what `ksn config set` set, and warns when the
// environment overrides it.
func SettingSet(ios *term.IOStreams, v config.Value) {
	fmt.Fprintf(ios.Out, "%s = %s\n", v.Key.Name, v.Value)
	if v.Source != "file" {
		ios.Warnf("%s is overridden by %s", v.Key.Name, v.Source)
	}
}

// Version is `ksn version`: the version line, and the revision when the
// build knows it.
func Version(w io.Writer, v buildinfo.Info, asJSON bool) error {
	if asJSON {
		return JSONLine(w, v)
	}
	fmt.Fprintf(w, "ksn %s\n", v)
	if v.Revision != "" {
		mod := ""
		if v.Modified {
			mod = " (with local changes)"
		}
		fmt.Fprintf(w, "revision %s%s\n", v.Revision, mod)
	}
	return nil
}
