// Package lint is the vocabulary of checking: statuses, rule metadata,
// citations of the Microsoft requirements a rule enforces, the Windows error
// a failure maps to (WinError), and a generic registry that runs rules over
// any subject type.
//
// The framework, not the rule, decides NA (role outside Roles, or Applies
// false), NE (Meta.Effective excludes Env.CMVersion; the check does not run)
// and Fatal (a recovered panic), and it enforces that a rule's name prefix
// bounds its severity: e_ rules may return only Error, w_ only Warn, n_ only
// Notice. An Outcome marked Unconfirmed (a requirement Microsoft does not
// state) is capped at Warn whatever the prefix.
package lint
