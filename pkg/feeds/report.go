package feeds

// ImportReport is one file's import as `ksn feed import --json` prints it
// (the README documents the schema). Error set: the file was not imported
// (an import is one transaction, so nothing of it is in the database).
type ImportReport struct {
	File       string     `json:"file"`
	Format     string     `json:"format,omitempty"`
	Indicators int        `json:"indicators"`
	Added      int        `json:"added"`
	Updated    int        `json:"updated"`
	Unchanged  int        `json:"unchanged"`
	Malformed  int        `json:"malformed"`
	Lines      []string   `json:"malformed_lines,omitempty"` // the first MaxReportedErrors, "line N: why"
	ElapsedMS  int64      `json:"elapsed_ms"`
	ClamAV     *CVDReport `json:"clamav,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// CVDReport is what was checked and read of a ClamAV container.
type CVDReport struct {
	Version           int            `json:"version"`
	Built             string         `json:"built"`
	Builder           string         `json:"builder"`
	Signatures        int            `json:"signatures"`
	Level             int            `json:"functionality_level"`
	SignatureVerified bool           `json:"signature_verified"`
	MD5Verified       bool           `json:"md5_verified"`
	Members           map[string]int `json:"members"` // entries read, by member name
	Skipped           map[string]int `json:"skipped"` // members not read, by extension
}

// Report is the import of file as `--json` prints it.
func (r Imported) Report(file string) ImportReport {
	rep := ImportReport{
		File: file, Format: string(r.Format), Indicators: r.Summary.Indicators,
		Added: r.Stats.Added, Updated: r.Stats.Updated, Unchanged: r.Stats.Unchanged,
		Malformed: r.Summary.Malformed, ElapsedMS: r.Elapsed.Milliseconds(),
	}
	for _, le := range r.Summary.Errors {
		rep.Lines = append(rep.Lines, le.Error())
	}
	if c := r.CVD; c != nil {
		h := c.Header
		rep.ClamAV = &CVDReport{Version: h.Version, Built: h.Built, Builder: h.Builder, Signatures: h.Signatures,
			Level: h.Level, SignatureVerified: c.SignatureVerified, MD5Verified: c.MD5Verified,
			Members: map[string]int{}, Skipped: map[string]int{}}
		for _, m := range c.Members {
			rep.ClamAV.Members[m.Name] += m.Summary.Indicators
		}
		for ext, n := range c.Skipped {
			rep.ClamAV.Skipped[ext] = n
		}
	}
	return rep
}

// FailedImport is the report of a file that could not be imported.
func FailedImport(file string, err error) ImportReport {
	return ImportReport{File: file, Error: err.Error()}
}

// UpdateReport is one feed's update as `ksn feed update --json` prints it.
type UpdateReport struct {
	Feed        string        `json:"feed"`
	Outcome     Outcome       `json:"outcome"`
	NotModified bool          `json:"not_modified"`
	Bytes       int64         `json:"bytes"` // downloaded
	ElapsedMS   int64         `json:"elapsed_ms"`
	Import      *ImportReport `json:"import,omitempty"` // added, updated, and unchanged when it was sent again
	Reason      string        `json:"reason,omitempty"` // failed: offline, denied, rate-limited, ...
	Error       string        `json:"error,omitempty"`
}

// Report is the update as `--json` prints it.
func (r UpdateResult) Report() UpdateReport {
	rep := UpdateReport{Feed: r.Feed.Name, Outcome: r.Outcome, NotModified: r.NotModified,
		Bytes: r.Bytes, ElapsedMS: r.Elapsed.Milliseconds()}
	if r.Imported != nil {
		imp := r.Imported.Report(r.Feed.URL)
		rep.Import = &imp
	}
	if r.Err != nil {
		rep.Reason, rep.Error = r.Err.Reason, r.Err.Error()
	}
	return rep
}

// UpdateReports are the updates' reports, in the order they ran.
func UpdateReports(results []UpdateResult) []UpdateReport {
	out := make([]UpdateReport, 0, len(results))
	for _, r := range results {
		out = append(out, r.Report())
	}
	return out
}
