//! The stage machine: which stage moves are allowed and what evidence each needs.
//! Pure rules, no I/O; the database layer supplies the facts.

use super::stage::Stage;
use super::vocabulary;

vocabulary! {
    /// The kinds of record that carry a cooperation stage.
    SubjectKind {
        Enterprise => "enterprise",
        OrderClass => "order_class",
        InternshipBase => "internship_base",
    }
}

impl Stage {
    /// Position along the main line; `terminated` sits after everything.
    fn rank(self) -> u8 {
        match self {
            Stage::Intention => 0,
            Stage::Negotiation => 1,
            Stage::Agreement => 2,
            Stage::Implementation => 3,
            Stage::Completed => 4,
            Stage::Terminated => 5,
        }
    }

    /// `completed` and `terminated` end a cooperation: nothing moves out of them.
    pub fn is_final(self) -> bool {
        matches!(self, Stage::Completed | Stage::Terminated)
    }

    /// Whether being at this stage needs an agreement as evidence.
    pub fn needs_agreement(self) -> bool {
        matches!(
            self,
            Stage::Agreement | Stage::Implementation | Stage::Completed
        )
    }
}

/// What kind of move a transition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
    Terminate,
}

/// The facts about a requested move that the rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Evidence {
    pub note: bool,
    pub agreement: bool,
    /// `enrolled_count` of an order class or `capacity` of a base; unused for enterprises.
    pub headcount: i32,
}

/// One piece of evidence a move lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Missing {
    /// Backward moves and terminations need a reason.
    Note,
    /// Entering `agreement` or later needs the agreement.
    Agreement,
    /// An order class enters `implementation` only with students enrolled.
    EnrolledCount,
    /// A base enters `implementation` only with capacity.
    Capacity,
}

impl Missing {
    /// The request member (or item field) that supplies this evidence.
    pub fn field(self) -> &'static str {
        match self {
            Missing::Note => "note",
            Missing::Agreement => "agreement_id",
            Missing::EnrolledCount => "enrolled_count",
            Missing::Capacity => "capacity",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Missing::Note | Missing::Agreement => "required",
            Missing::EnrolledCount | Missing::Capacity => "required_for_implementation",
        }
    }

    pub fn message(self, to: Stage) -> String {
        match self {
            Missing::Note => {
                format!("a move to `{to}` that is a step back or an end needs a `note` saying why")
            }
            Missing::Agreement => {
                format!("entering `{to}` needs the `agreement_id` of the agreement that backs it")
            }
            Missing::EnrolledCount => {
                format!("an order class enters `{to}` only with `enrolled_count` above 0")
            }
            Missing::Capacity => {
                format!("an internship base enters `{to}` only with `capacity` above 0")
            }
        }
    }
}

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The move itself is not allowed from this stage (409).
    NotAllowed { from: Stage, allowed: Vec<Stage> },
    /// The move is allowed but lacks evidence (422).
    Missing(Vec<Missing>),
}

/// The direction of a move from `from` to `to`, or `None` when it is not allowed.
pub fn direction(from: Stage, to: Stage) -> Option<Direction> {
    if from.is_final() || from == to {
        return None;
    }
    if to == Stage::Terminated {
        return Some(Direction::Terminate);
    }
    if to.rank() > from.rank() {
        Some(Direction::Forward)
    } else {
        // Both are non-final here, so this stays within intention..implementation.
        Some(Direction::Backward)
    }
}

/// Every stage reachable in one move from `from`, in stage order.
pub fn allowed_targets(from: Stage) -> Vec<Stage> {
    Stage::ALL
        .iter()
        .copied()
        .filter(|to| direction(from, *to).is_some())
        .collect()
}

/// Checks a move of a `kind` record from `from` to `to` with the given evidence.
pub fn check(
    kind: SubjectKind,
    from: Stage,
    to: Stage,
    evidence: &Evidence,
) -> Result<Direction, Refusal> {
    let Some(direction) = direction(from, to) else {
        return Err(Refusal::NotAllowed {
            from,
            allowed: allowed_targets(from),
        });
    };
    let missing = missing(kind, direction, to, evidence);
    if missing.is_empty() {
        Ok(direction)
    } else {
        Err(Refusal::Missing(missing))
    }
}

/// The evidence a move (assumed allowed) lacks, in a stable order.
pub fn missing(
    kind: SubjectKind,
    direction: Direction,
    to: Stage,
    evidence: &Evidence,
) -> Vec<Missing> {
    let mut missing = Vec::new();
    if matches!(direction, Direction::Backward | Direction::Terminate) && !evidence.note {
        missing.push(Missing::Note);
    }
    if to.needs_agreement() && !evidence.agreement {
        missing.push(Missing::Agreement);
    }
    // Completing is implementing and more: a move that skips `implementation` must
    // still show its students or places.
    if matches!(to, Stage::Implementation | Stage::Completed) && evidence.headcount <= 0 {
        match kind {
            SubjectKind::OrderClass => missing.push(Missing::EnrolledCount),
            SubjectKind::InternshipBase => missing.push(Missing::Capacity),
            SubjectKind::Enterprise => {}
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use Stage::*;

    const FULL: Evidence = Evidence {
        note: true,
        agreement: true,
        headcount: 1,
    };

    /// The whole table, written out by hand: (from, allowed targets).
    const TABLE: &[(Stage, &[Stage])] = &[
        (
            Intention,
            &[
                Negotiation,
                Agreement,
                Implementation,
                Completed,
                Terminated,
            ],
        ),
        (
            Negotiation,
            &[Intention, Agreement, Implementation, Completed, Terminated],
        ),
        (
            Agreement,
            &[
                Intention,
                Negotiation,
                Implementation,
                Completed,
                Terminated,
            ],
        ),
        (
            Implementation,
            &[Intention, Negotiation, Agreement, Completed, Terminated],
        ),
        (Completed, &[]),
        (Terminated, &[]),
    ];

    fn expected_missing(kind: SubjectKind, from: Stage, to: Stage, e: Evidence) -> Vec<Missing> {
        let mut m = Vec::new();
        let back_or_end = to == Terminated || to.rank() < from.rank();
        if back_or_end && !e.note {
            m.push(Missing::Note);
        }
        if matches!(to, Agreement | Implementation | Completed) && !e.agreement {
            m.push(Missing::Agreement);
        }
        if matches!(to, Implementation | Completed) && e.headcount <= 0 {
            match kind {
                SubjectKind::OrderClass => m.push(Missing::EnrolledCount),
                SubjectKind::InternshipBase => m.push(Missing::Capacity),
                SubjectKind::Enterprise => {}
            }
        }
        m
    }

    #[test]
    fn every_pair_of_stages_for_every_kind() {
        let evidences = [
            Evidence::default(),
            FULL,
            Evidence {
                note: true,
                ..Evidence::default()
            },
            Evidence {
                agreement: true,
                ..Evidence::default()
            },
            Evidence {
                note: true,
                agreement: true,
                headcount: 0,
            },
            Evidence {
                note: false,
                agreement: true,
                headcount: 5,
            },
        ];
        for kind in SubjectKind::ALL.iter().copied() {
            for (from, targets) in TABLE {
                assert_eq!(allowed_targets(*from), targets.to_vec(), "{from}");
                for to in Stage::ALL.iter().copied() {
                    for evidence in evidences {
                        let got = check(kind, *from, to, &evidence);
                        if !targets.contains(&to) {
                            assert_eq!(
                                got,
                                Err(Refusal::NotAllowed {
                                    from: *from,
                                    allowed: targets.to_vec()
                                }),
                                "{kind} {from} → {to}"
                            );
                            continue;
                        }
                        let want = expected_missing(kind, *from, to, evidence);
                        if want.is_empty() {
                            assert!(got.is_ok(), "{kind} {from} → {to} {evidence:?}: {got:?}");
                        } else {
                            assert_eq!(
                                got,
                                Err(Refusal::Missing(want)),
                                "{kind} {from} → {to} {evidence:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn directions() {
        assert_eq!(direction(Intention, Completed), Some(Direction::Forward));
        assert_eq!(direction(Agreement, Negotiation), Some(Direction::Backward));
        assert_eq!(
            direction(Implementation, Terminated),
            Some(Direction::Terminate)
        );
        assert_eq!(direction(Negotiation, Negotiation), None);
        assert_eq!(direction(Completed, Terminated), None);
    }

    #[test]
    fn enterprises_need_no_headcount() {
        let evidence = Evidence {
            agreement: true,
            ..Evidence::default()
        };
        assert_eq!(
            check(
                SubjectKind::Enterprise,
                Agreement,
                Implementation,
                &evidence
            ),
            Ok(Direction::Forward)
        );
        assert_eq!(
            check(
                SubjectKind::OrderClass,
                Agreement,
                Implementation,
                &evidence
            ),
            Err(Refusal::Missing(vec![Missing::EnrolledCount]))
        );
        assert_eq!(
            check(
                SubjectKind::InternshipBase,
                Agreement,
                Implementation,
                &evidence
            ),
            Err(Refusal::Missing(vec![Missing::Capacity]))
        );
    }

    fn any_stage() -> impl Strategy<Value = Stage> {
        prop::sample::select(Stage::ALL.to_vec())
    }

    fn any_kind() -> impl Strategy<Value = SubjectKind> {
        prop::sample::select(SubjectKind::ALL.to_vec())
    }

    fn any_evidence() -> impl Strategy<Value = Evidence> {
        (any::<bool>(), any::<bool>(), -2..3i32).prop_map(|(note, agreement, headcount)| Evidence {
            note,
            agreement,
            headcount,
        })
    }

    proptest! {
        #[test]
        fn final_stages_allow_nothing(kind in any_kind(), to in any_stage(), e in any_evidence()) {
            for from in [Completed, Terminated] {
                prop_assert!(allowed_targets(from).is_empty());
                let refused = matches!(check(kind, from, to, &e), Err(Refusal::NotAllowed { .. }));
                prop_assert!(refused);
            }
        }

        #[test]
        fn staying_put_is_never_a_move(kind in any_kind(), s in any_stage(), e in any_evidence()) {
            let refused = matches!(check(kind, s, s, &e), Err(Refusal::NotAllowed { .. }));
            prop_assert!(refused);
        }

        #[test]
        fn allowed_backward_moves_and_ends_need_a_note(
            kind in any_kind(), from in any_stage(), to in any_stage(), e in any_evidence()
        ) {
            let without = Evidence { note: false, ..e };
            if let Some(Direction::Backward | Direction::Terminate) = direction(from, to) {
                let missing = matches!(
                    check(kind, from, to, &without),
                    Err(Refusal::Missing(m)) if m.contains(&Missing::Note)
                );
                prop_assert!(missing);
            }
        }

        #[test]
        fn moves_into_agreement_or_later_need_an_agreement(
            kind in any_kind(), from in any_stage(), to in any_stage(), e in any_evidence()
        ) {
            let without = Evidence { agreement: false, ..e };
            if direction(from, to).is_some() && to.needs_agreement() {
                let missing = matches!(
                    check(kind, from, to, &without),
                    Err(Refusal::Missing(m)) if m.contains(&Missing::Agreement)
                );
                prop_assert!(missing);
            }
        }

        #[test]
        fn full_evidence_makes_every_allowed_move_pass(
            kind in any_kind(), from in any_stage(), to in any_stage()
        ) {
            prop_assert_eq!(check(kind, from, to, &FULL).is_ok(), allowed_targets(from).contains(&to));
        }

        #[test]
        fn terminated_is_reachable_from_every_non_final_stage(from in any_stage()) {
            prop_assert_eq!(allowed_targets(from).contains(&Terminated), !from.is_final());
        }
    }
}
