//! The cooperation stage vocabulary (the moves between stages come with the stage machine).

use super::vocabulary;

vocabulary! {
    /// Where a cooperation stands, from first intention to its end.
    Stage {
        Intention => "intention",
        Negotiation => "negotiation",
        Agreement => "agreement",
        Implementation => "implementation",
        Completed => "completed",
        Terminated => "terminated",
    }
}
