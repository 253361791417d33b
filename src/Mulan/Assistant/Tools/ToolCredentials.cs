using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace Mulan.Assistant.Tools;

/// <summary>Encrypts tool-source credentials at rest with the server's Data Protection key ring (under the data folder), as
/// provider keys are; only the call that injects one decrypts it.</summary>
public sealed class ToolCredentials(IDataProtectionProvider protection)
{
    private readonly IDataProtector _protector = protection.CreateProtector("Mulan.Assistant.ToolCredentials");

    public byte[] Protect(string value) => _protector.Protect(Encoding.UTF8.GetBytes(value));

    public string? Unprotect(byte[]? stored) => stored is null ? null : Encoding.UTF8.GetString(_protector.Unprotect(stored));
}
