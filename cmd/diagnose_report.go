package cmd

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cmgpki/cmgpki/flow"
)

// The HTML report of a flow run: one self-contained file (inline CSS and
// SVG, no script, no external asset), readable offline and attachable to a
// ticket. The sequence diagram draws one arrow per step between the actors
// it involves; the failing step is red and marked "FAILED".

var reportActors = []struct{ id, label string }{
	{flow.CompClient, "Client"}, {flow.CompCMG, "CMG"}, {flow.CompCP, "Connection point"},
	{flow.CompMP, "Management point"}, {flow.CompEntra, "Entra ID"},
}

// stepHops are the actors each step's request passes, in order.
var stepHops = map[string][]string{
	flow.StepCMGTLS:      {flow.CompClient, flow.CompCMG},
	flow.StepAADInfo:     {flow.CompClient, flow.CompCMG},
	flow.StepAuth:        {flow.CompClient, flow.CompEntra},
	flow.StepCCMToken:    {flow.CompClient, flow.CompCMG, flow.CompCP, flow.CompMP},
	flow.StepLocation:    {flow.CompClient, flow.CompCMG, flow.CompCP, flow.CompMP},
	flow.StepRegister:    {flow.CompClient, flow.CompCMG, flow.CompCP, flow.CompMP},
	flow.StepRenewal:     {flow.CompClient, flow.CompCMG, flow.CompCP, flow.CompMP},
	flow.StepSecSettings: {flow.CompClient, flow.CompCMG, flow.CompCP, flow.CompMP},
}

type svgLine struct {
	X1, Y1, X2, Y2      int
	Color, Marker, Dash string
}
type svgActor struct {
	X     int
	Label string
}
type svgStep struct {
	ID, Status, Label, Detail string
	Y, LabelX                 int
	Segs                      []svgLine
	Failed                    bool
	MarkX                     int
}
type reportStep struct {
	flow.Step
	TimeText string
}

// reportChains are the TLS hops of one step: a table per hop, or (a run
// read from logs, which carry no certificates) the proof command to run.
type reportChains struct {
	ID, Status, Proof string
	Hops              []reportHop
}
type reportHop struct {
	From, To, Version, Cipher string
	Failed                    bool
	Rows                      []reportChainRow
}
type reportChainRow struct {
	flow.ChainCert
	Side, StatusText string
	N                int
}

type reportData struct {
	Title, Generated, Result, FailingStep, Code string
	Width, Height, Bottom                       int
	Actors                                      []svgActor
	Arrows                                      []svgStep
	Steps                                       []reportStep
	Chains                                      []reportChains
	Findings                                    []reportFinding
	Notes                                       []string
	Missing                                     []string
}

const reportTpl = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em;color:#1b1b1b;background:#fff}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.5em}
.summary{padding:.6em 1em;border-radius:4px;display:inline-block;font-weight:600}
.summary.fail{background:#fde7e9;color:#a4262c}.summary.pass{background:#dff6dd;color:#107c10}
table{border-collapse:collapse;width:100%;font-size:.9em} td,th{border:1px solid #ccc;padding:.35em .5em;vertical-align:top;text-align:left}
tr.fail td{background:#fde7e9} table.hop{margin:.5em 0 1em} table.hop caption{text-align:left;font-weight:600;padding:.2em 0}
table.hop tr.bad td{background:#fde7e9;color:#a4262c;font-weight:600} .nochain{color:#605e5c} tr.pass td:nth-child(2){color:#107c10} tr.skip td{color:#605e5c}
code,pre{font-family:Consolas,Menlo,monospace;font-size:.85em} pre{white-space:pre-wrap;margin:.2em 0}
.finding{border-left:4px solid #a4262c;padding:.2em 1em;margin:1em 0}.finding.warn{border-color:#c19c00}
svg text{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif}
</style></head>
<body>
<h1>{{.Title}}</h1>
<p class="summary {{.Result}}" id="summary">{{if eq .Result "fail"}}FAILED{{if .FailingStep}} at step {{.FailingStep}}{{end}}{{if .Code}} ({{.Code}}){{end}}{{else}}No failure identified{{end}}</p>
<p>Generated {{.Generated}}</p>
<h2>Sequence</h2>
<svg id="sequence" xmlns="http://www.w3.org/2000/svg" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="sequence diagram of the flow">
<rect x="0" y="0" width="{{.Width}}" height="{{.Height}}" fill="#ffffff"/>
<defs>
<marker id="ah-pass" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#107c10"/></marker>
<marker id="ah-fail" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#a4262c"/></marker>
<marker id="ah-skip" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#a19f9d"/></marker>
</defs>
{{range .Actors}}<g class="actor"><rect x="{{add .X -70}}" y="10" width="140" height="30" rx="4" fill="#f3f2f1" stroke="#8a8886"/><text x="{{.X}}" y="30" text-anchor="middle" font-size="13">{{.Label}}</text>
<line x1="{{.X}}" y1="40" x2="{{.X}}" y2="{{$.Bottom}}" stroke="#c8c6c4" stroke-dasharray="4 4"/></g>
{{end}}{{range .Arrows}}<g class="step {{.Status}}" data-step="{{.ID}}" data-status="{{.Status}}"><title>{{.Detail}}</title>
<text x="{{.LabelX}}" y="{{add .Y -6}}" font-size="12" fill="{{if .Failed}}#a4262c{{else if eq .Status "pass"}}#107c10{{else}}#605e5c{{end}}">{{.Label}}</text>
{{range .Segs}}<line x1="{{.X1}}" y1="{{.Y1}}" x2="{{.X2}}" y2="{{.Y2}}" stroke="{{.Color}}" stroke-width="2" stroke-dasharray="{{.Dash}}" marker-end="url(#{{.Marker}})"/>{{end}}
{{if .Failed}}<text class="fail-mark" x="{{.MarkX}}" y="{{add .Y 5}}" font-size="16" font-weight="700" fill="#a4262c">✗ FAILED</text>{{end}}</g>
{{end}}</svg>
<h2>Steps</h2>
<table id="steps"><thead><tr><th>Step</th><th>Result</th><th>Component</th><th>Time (UTC)</th><th>Detail</th><th>Evidence</th></tr></thead><tbody>
{{range .Steps}}<tr class="{{.Status}}" data-step="{{.ID}}"><td>{{.ID}}</td><td>{{.Status}}</td><td>{{.Component}}</td><td>{{.TimeText}}</td>
<td>{{.Detail}}{{if not .Windows.IsZero}}<br>Windows: <code>{{.Windows.String}}</code>{{end}}{{if .HTTP}}<br>HTTP: <code>{{.HTTP}}</code>{{end}}{{if .Fix}}<br>Fix: {{.Fix}}{{end}}{{if .Proof}}<br>Proof: <code>{{.Proof}}</code>{{end}}</td>
<td>{{range .Evidence}}<pre>{{.}}</pre>{{end}}</td></tr>
{{end}}</tbody></table>
{{if .Findings}}<h2>Findings</h2>{{range .Findings}}
<div class="finding {{.Level}}" data-finding="{{.ID}}"><h3>{{.ID}}: {{.Title}}{{if eq .Level "warn"}} (warning){{end}}</h3>
{{range .Evidence}}<pre>{{.}}</pre>{{end}}
{{if .Codes}}<ul>{{range .Codes}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
<p><b>Cause:</b> {{.Cause}}</p><p><b>Fix:</b> {{.Fix}}</p>{{if .Proof}}<p><b>Proof:</b> <code>{{.Proof}}</code></p>{{end}}<p><small>Source: {{.Citation}}</small></p></div>{{end}}{{end}}
{{if .Missing}}<h2>Missing from the logs</h2><ul id="missing">{{range .Missing}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Notes}}<h2>Notes</h2><ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Chains}}<h2>Certificate chains</h2><div id="chains">{{range .Chains}}
<div class="hops {{.Status}}" data-chain-step="{{.ID}}"><h3>{{.ID}}</h3>
{{range .Hops}}<table class="hop{{if .Failed}} fail{{end}}" data-from="{{.From}}" data-to="{{.To}}"><caption>{{actor .From}} → {{actor .To}}: {{if .Version}}{{.Version}}, {{.Cipher}}{{else}}handshake not completed{{end}}</caption>
<thead><tr><th>Presented by</th><th>#</th><th>Subject</th><th>Issuer</th><th>Thumbprint (SHA-1)</th><th>Expires (UTC)</th><th>Status</th></tr></thead><tbody>
{{range .Rows}}<tr{{if .Failed}} class="bad"{{end}}><td>{{.Side}}</td><td>{{.N}}</td><td>{{.Subject}}</td><td>{{.Issuer}}</td><td><code>{{.SHA1Thumbprint}}</code></td><td>{{.NotAfter}}</td><td class="status">{{.StatusText}}</td></tr>
{{end}}</tbody></table>
{{else}}<p class="nochain">no certificates in the logs; run the proof command{{if .Proof}}: <code>{{.Proof}}</code>{{end}}</p>
{{end}}</div>{{end}}</div>{{end}}
</body></html>
`

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"add": func(a, b int) int { return a + b }, "actor": actorLabel}).Parse(reportTpl))

// buildReport lays out the sequence diagram of run.
func buildReport(title string, run *flow.Flow, findings []reportFinding, missing []string, generated time.Time) reportData {
	const gap, left, top, rowH = 190, 110, 80, 56
	d := reportData{Title: title, Generated: generated.UTC().Format(time.RFC3339), Result: string(run.Result), FailingStep: run.FailingStep,
		Findings: findings, Notes: run.Notes, Missing: missing}
	if !run.Code.IsZero() {
		d.Code = fmt.Sprintf("%s 0x%08X", run.Code.Name, run.Code.HRESULT)
	}
	x := map[string]int{}
	for i, a := range reportActors {
		x[a.id] = left + i*gap
		d.Actors = append(d.Actors, svgActor{X: x[a.id], Label: a.label})
	}
	d.Width = left*2 + (len(reportActors)-1)*gap
	for i, s := range run.Steps {
		y := top + i*rowH + 20
		hops := stepHops[s.ID]
		if len(hops) == 0 {
			hops = []string{flow.CompClient, s.Component}
		}
		st := svgStep{ID: s.ID, Status: string(s.Status), Y: y, Failed: s.Status == flow.Fail, LabelX: x[flow.CompClient] + 8,
			Label: fmt.Sprintf("%d. %s: %s", i+1, s.ID, strings.ToUpper(string(s.Status))), Detail: s.Detail}
		end := len(hops)
		if st.Failed {
			// the arrow stops at the component that failed the step
			for j, h := range hops {
				if h == s.Component {
					end = j + 1
				}
			}
			if end < 2 {
				end = 2
			}
		}
		color, marker, dash := "#107c10", "ah-pass", "none"
		switch s.Status {
		case flow.Fail:
			color, marker = "#a4262c", "ah-fail"
		case flow.Skip:
			color, marker, dash = "#a19f9d", "ah-skip", "6 4"
		}
		for j := 0; j+1 < end; j++ {
			st.Segs = append(st.Segs, svgLine{x[hops[j]], y, x[hops[j+1]], y, color, marker, dash})
		}
		st.MarkX = x[hops[end-1]] + 10
		d.Arrows = append(d.Arrows, st)
		rs := reportStep{Step: s}
		if !s.Time.IsZero() {
			rs.TimeText = s.Time.UTC().Format(time.RFC3339)
		}
		d.Steps = append(d.Steps, rs)
	}
	d.Chains = buildChains(run)
	d.Bottom = top + len(run.Steps)*rowH + 10
	d.Height = d.Bottom + 20
	return d
}

// renderFlowReport renders the report of run.
func renderFlowReport(title string, run *flow.Flow, findings []reportFinding, missing []string, generated time.Time) ([]byte, error) {
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, buildReport(title, run, findings, missing, generated)); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return b.Bytes(), nil
}

// writeFlowReport writes the report next to path and renames it into
// place, so a failure never leaves half a report.
func writeFlowReport(path, title string, run *flow.Flow, findings []reportFinding, missing []string, generated time.Time) error {
	data, err := renderFlowReport(title, run, findings, missing, generated)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*.html")
	if err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("--report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	return nil
}

// actorLabel is the diagram's name of a component.
func actorLabel(id string) string {
	for _, a := range reportActors {
		if a.id == id {
			return a.label
		}
	}
	return id
}

// buildChains lays out the TLS hops of each step. A run read from logs
// holds none (logs do not carry certificates): every step that ran gets the
// pointer to its proof command instead, nothing invented.
func buildChains(run *flow.Flow) []reportChains {
	fromLogs := strings.HasPrefix(run.Schema, "cmgpki/diagnose/")
	var out []reportChains
	for _, s := range run.Steps {
		rc := reportChains{ID: s.ID, Status: string(s.Status), Proof: s.Proof}
		for _, h := range s.TLS {
			rh := reportHop{From: h.From, To: h.To, Version: h.Version, Cipher: h.Cipher}
			add := func(side string, chain []flow.ChainCert) {
				for i, c := range chain {
					st := c.Status
					if st == "" {
						st = "presented (not judged here)"
					}
					rh.Rows = append(rh.Rows, reportChainRow{ChainCert: c, Side: side, StatusText: st, N: i})
					rh.Failed = rh.Failed || c.Failed()
				}
			}
			add(actorLabel(h.To)+" (server)", h.Server)
			add(actorLabel(h.From)+" (client)", h.Client)
			rc.Hops = append(rc.Hops, rh)
		}
		if len(rc.Hops) > 0 || (fromLogs && s.Status != flow.Skip) {
			out = append(out, rc)
		}
	}
	return out
}
