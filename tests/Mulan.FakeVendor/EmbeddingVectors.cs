using System.Buffers.Binary;

namespace Mulan.FakeVendor;

/// <summary>Deterministic unit vectors: hash the input, run SplitMix64 from it, L2-normalise.</summary>
internal static class EmbeddingVectors
{
    /// <summary>FNV-1a, 64-bit: stable across processes, unlike string.GetHashCode.</summary>
    public static ulong Seed(ReadOnlySpan<byte> bytes)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }

    public static void Fill(ulong seed, Span<float> vector)
    {
        var state = seed;
        double sumSquares = 0;
        for (var i = 0; i < vector.Length; i++)
        {
            // Top 24 bits give an exact float in [0, 1); shift to [-1, 1).
            var value = ((SplitMix64(ref state) >> 40) / (float)(1 << 24) * 2f) - 1f;
            vector[i] = value;
            sumSquares += value * value;
        }

        var norm = (float)Math.Sqrt(sumSquares);
        if (norm == 0f)
        {
            vector[0] = 1f; // astronomically unlikely, but a zero vector cannot be normalised
            return;
        }

        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] /= norm;
        }
    }

    /// <summary>The <c>encoding_format:"base64"</c> form: little-endian float32s.</summary>
    public static void ToLittleEndian(ReadOnlySpan<float> vector, Span<byte> bytes)
    {
        for (var i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes[(i * 4)..], vector[i]);
        }
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
