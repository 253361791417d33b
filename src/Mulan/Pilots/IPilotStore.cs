namespace Mulan.Pilots;

/// <summary>Storage seam for pilots. Writes that depend on the pilot's state (frozen or not, a change still pending) check it in the same statement.</summary>
public interface IPilotStore
{
    Task CreateAsync(Pilot pilot, CancellationToken ct);
    Task<Pilot?> FindAsync(string id, CancellationToken ct);
    Task<IReadOnlyList<Pilot>> ListAsync(string? workspaceId, CancellationToken ct);
    Task UpdateAsync(Pilot pilot, CancellationToken ct);

    Task<IReadOnlyList<ScopeItem>> ScopeAsync(string pilotId, CancellationToken ct);

    /// <summary>Adds or replaces an item while the scope is not frozen; false when it is (nothing written).</summary>
    Task<bool> PutScopeUnfrozenAsync(string pilotId, ScopeItem item, CancellationToken ct);

    /// <summary>Deletes an item while the scope is not frozen; null when frozen, false when there is no such item.</summary>
    Task<bool?> DeleteScopeUnfrozenAsync(string pilotId, string itemId, CancellationToken ct);

    /// <summary>Freezes the scope with <paramref name="baseline"/> as its snapshot; false when it was frozen already.</summary>
    Task<bool> FreezeAsync(Pilot frozen, CancellationToken ct);

    Task AddChangeAsync(ChangeRequest change, CancellationToken ct);
    Task<IReadOnlyList<ChangeRequest>> ChangesAsync(string pilotId, CancellationToken ct);

    /// <summary>Records the decision and, for an approval, applies it to the scope, in one transaction; false when the change was no longer pending.</summary>
    Task<bool> DecideAsync(ChangeRequest decided, CancellationToken ct);

    Task AddEffortAsync(EffortEntry entry, CancellationToken ct);
    Task<IReadOnlyList<EffortEntry>> EffortAsync(string pilotId, CancellationToken ct);

    /// <summary>Records an alert unless one of the kind and threshold exists; true when this call recorded it.</summary>
    Task<bool> AddAlertAsync(PilotAlert alert, CancellationToken ct);
    Task UpdateAlertAsync(PilotAlert alert, CancellationToken ct);
    Task<IReadOnlyList<PilotAlert>> AlertsAsync(string pilotId, CancellationToken ct);

    Task AddBakeoffAsync(PilotBakeoff bakeoff, CancellationToken ct);
    Task<IReadOnlyList<PilotBakeoff>> BakeoffsAsync(string pilotId, CancellationToken ct);
    Task<bool> DeleteBakeoffAsync(string pilotId, string bakeoffId, CancellationToken ct);

    Task PutSignoffAsync(Signoff signoff, CancellationToken ct);
    Task<IReadOnlyList<Signoff>> SignoffsAsync(string pilotId, CancellationToken ct);
}
