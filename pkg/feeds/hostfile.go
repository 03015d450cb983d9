package feeds

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/ksnproject/ksn/pkg/reputation"
)

// hostfileParser reads a hosts file used as a block list, as URLhaus
// publishes one (urlhaus.abuse.ch/downloads/hostfile/): '#' comments, then
// one entry a line, an address and the host names that would resolve to
// it, separated by white space:
//
//	127.0.0.1	evil.example
//
// The address is only the file's way of blocking the name; each host name
// becomes a listing of the whole host (its canonical "host/"), malicious,
// so that every link to the host or a subdomain matches. Names without a
// dot (localhost, broadcasthost), which general hosts files carry for the
// machine itself, and addresses written as names are skipped, not
// counted as malformed.
type hostfileParser struct{}

// hostfileComment recognises the URLhaus host file's banner.
func hostfileComment(line string) bool {
	return strings.Contains(strings.ToLower(line), "urlhaus host file")
}

func (hostfileParser) parseLine(line string) ([]reputation.URLIndicator, bool, error) {
	if line == "" || line[0] == '#' {
		return nil, false, nil
	}
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i] // a trailing comment
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil, false, nil
	}
	if _, err := netip.ParseAddr(fields[0]); err != nil {
		return nil, false, fmt.Errorf("%w: %s is not an address; want ADDRESS HOST", errBadField, quote(fields[0]))
	}
	if len(fields) < 2 {
		return nil, false, fmt.Errorf("%w: no host name after %s", errMissingField, fields[0])
	}
	var out []reputation.URLIndicator
	for _, host := range fields[1:] {
		if _, err := netip.ParseAddr(host); err == nil || !strings.Contains(strings.Trim(host, "."), ".") {
			continue
		}
		ind, err := urlIndicator("http://" + host + "/")
		if err != nil {
			return nil, false, err
		}
		ind.Verdict = reputation.Malicious
		ind.Category = "malware_download"
		out = append(out, ind)
	}
	return out, len(out) > 0, nil
}

// parseHostfile is ParseURLs for host files: a line may name several
// hosts, and each is an indicator.
func parseHostfile(r interface{ Read([]byte) (int, error) }, emit func(reputation.URLIndicator) error) (Summary, error) {
	extra := 0
	sum, err := parseLines(r, URLhausHostfile, hostfileParser{}.parseLine, func(inds []reputation.URLIndicator) error {
		for i, ind := range inds {
			if emit != nil {
				if err := emit(ind); err != nil {
					return err
				}
			}
			if i > 0 {
				extra++
			}
		}
		return nil
	})
	sum.Indicators += extra
	return sum, err
}
