extension Profile {
    /// How many poles away along the route a detection can raise a lamp, over all programs: the
    /// furthest `maxPolesAhead`, `polesAhead` or `polesBehind`.
    public var noticeReach: Int {
        programs.values.compactMap(\.presence)
            .map { max($0.maxPolesAhead, $0.polesAhead, $0.polesBehind) }
            .max() ?? 0
    }

    /// The indices of the poles whose detection notices the pole at `index` needs: those within
    /// `noticeReach` poles either way. A pole subscribes to these only, so a long route does not
    /// send every notice to every pole.
    public func noticeNeighbours(ofPoleAt index: Int) -> ClosedRange<Int> {
        let reach = noticeReach
        return max(0, index - reach)...min(route.poles.count - 1, index + reach)
    }
}
