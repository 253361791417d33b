using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Mulan.Storage;

/// <summary>A vector stored as little-endian float32s, the layout every platform this runs on uses in memory.</summary>
internal static class VectorBlob
{
    public static byte[] Encode(float[] vector)
    {
        if (!BitConverter.IsLittleEndian)
        {
            var bytes = new byte[vector.Length * sizeof(float)];
            for (var i = 0; i < vector.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
            }
            return bytes;
        }
        return MemoryMarshal.AsBytes(vector.AsSpan()).ToArray();
    }

    public static float[] Decode(byte[] bytes)
    {
        if (bytes.Length % sizeof(float) != 0)
        {
            throw new InvalidDataException($"A stored vector has {bytes.Length} bytes, not a whole number of float32s.");
        }
        var vector = new float[bytes.Length / sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
        }
        return vector;
    }
}
