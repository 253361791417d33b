namespace Mulan.FakeVendor;

/// <summary>The vendor's own bill: one entry per chat/embeddings request, in completion order.</summary>
public sealed class FakeVendorLedger
{
    private readonly SnapshotList<VendorBill> _bills = new();

    /// <summary>A copy taken now; later requests do not change it.</summary>
    public IReadOnlyList<VendorBill> Bills => _bills.Snapshot();

    public void Clear() => _bills.Clear();

    internal void Add(VendorBill bill) => _bills.Add(bill);

    internal void Replace(VendorBill old, VendorBill updated) => _bills.Replace(old, updated);
}
