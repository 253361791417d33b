using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Mulan.Access;

/// <summary>
/// Generation and hashing of secrets. Keys carry 256 bits from the OS CSPRNG, so a single SHA-256 is
/// enough to store them (no password stretching needed: there is nothing to guess).
/// </summary>
public static class KeyMaterial
{
    public const string VirtualKeyPrefix = "mk-";
    public const string AdminKeyPrefix = "mka-";

    public static string NewVirtualKey() => VirtualKeyPrefix + RandomToken(32);

    public static string NewAdminKey() => AdminKeyPrefix + RandomToken(32);

    /// <summary>A bearer secret of 256 bits with a recognisable prefix (sessions, personal tokens, invitations).</summary>
    public static string NewSecret(string prefix) => prefix + RandomToken(32);

    public static string NewId(string prefix) => prefix + "_" + RandomToken(12);

    public static string Hash(string key)
    {
        Span<byte> hash = stackalloc byte[32];
        var bytes = Encoding.UTF8.GetBytes(key);
        SHA256.HashData(bytes, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>What lists show: enough to recognise a key, far too little to use it.</summary>
    public static string DisplayPrefix(string key) => key[..Math.Min(key.Length, VirtualKeyPrefix.Length + 6)] + "…";

    public static bool HashEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    private static string RandomToken(int bytes)
    {
        Span<byte> buffer = stackalloc byte[bytes];
        RandomNumberGenerator.Fill(buffer);
        return Base64Url.EncodeToString(buffer);
    }
}
