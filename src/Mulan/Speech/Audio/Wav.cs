using System.Buffers.Binary;

namespace Mulan.Speech.Audio;

/// <summary>What a WAV file's header says about its samples.</summary>
/// <param name="Encoding">1 = integer PCM, 3 = IEEE float (WAVE_FORMAT_EXTENSIBLE is read through to its subformat).</param>
public sealed record WavInfo(int Encoding, int Channels, int SampleRate, int BitsPerSample, int DataOffset, int DataLength)
{
    public bool IsPcm16 => Encoding == 1 && BitsPerSample == 16;

    public TimeSpan Duration => TimeSpan.FromSeconds(DataLength / (double)(SampleRate * Channels * (BitsPerSample / 8)));
}

/// <summary>
/// Reads and writes RIFF WAVE headers. Reading checks what ffmpeg would let pass: a data chunk that claims more bytes than
/// the file holds is a truncated upload and is refused (the usual sign of a cut-off transfer).
/// </summary>
public static class Wav
{
    /// <exception cref="InvalidAudioException">not a readable WAV file.</exception>
    public static WavInfo Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < 12 || !file.StartsWith("RIFF"u8) || !file[8..12].SequenceEqual("WAVE"u8))
        {
            throw new InvalidAudioException("not a WAV file");
        }
        int? encoding = null, channels = null, rate = null, bits = null;
        var at = 12;
        while (at + 8 <= file.Length)
        {
            var id = file.Slice(at, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(file[(at + 4)..]);
            var body = at + 8;
            if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16 || body + 16 > file.Length)
                {
                    throw new InvalidAudioException("truncated WAV header");
                }
                encoding = BinaryPrimitives.ReadUInt16LittleEndian(file[body..]);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(file[(body + 2)..]);
                rate = (int)BinaryPrimitives.ReadUInt32LittleEndian(file[(body + 4)..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(file[(body + 14)..]);
                if (encoding == 0xFFFE && size >= 40 && body + 26 <= file.Length)
                {
                    encoding = BinaryPrimitives.ReadUInt16LittleEndian(file[(body + 24)..]);
                }
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (encoding is null)
                {
                    throw new InvalidAudioException("WAV data before its format chunk");
                }
                if (channels is not (>= 1 and <= 8) || rate is not (>= 1000 and <= 384_000) || bits is not (8 or 16 or 24 or 32))
                {
                    throw new InvalidAudioException("WAV header with an impossible format");
                }
                // 0xFFFFFFFF (and 0) is what streaming writers put when they could not seek back: the data runs to the end.
                var length = size is 0 or uint.MaxValue ? file.Length - body : (long)size;
                if (body + length > file.Length)
                {
                    throw new InvalidAudioException($"truncated WAV file: its header announces {length} bytes of audio, the file holds {file.Length - body}");
                }
                var frame = channels.Value * (bits.Value / 8);
                return new WavInfo(encoding.Value, channels.Value, rate.Value, bits.Value, body, (int)(length - (length % frame)));
            }
            at = body + (int)Math.Min(size + (size & 1), int.MaxValue - body);
        }
        throw new InvalidAudioException("truncated WAV file: no data chunk");
    }

    /// <summary>A 44-byte header for 16-bit mono PCM of <paramref name="dataLength"/> bytes.</summary>
    public static byte[] Header(int sampleRate, int dataLength)
    {
        var h = new byte[44];
        "RIFF"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), (uint)(36 + dataLength));
        "WAVEfmt "u8.CopyTo(h.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), 16);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(22), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(24), (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(28), (uint)(sampleRate * 2));
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(32), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(34), 16);
        "data"u8.CopyTo(h.AsSpan(36));
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(40), (uint)dataLength);
        return h;
    }

    /// <summary>16-bit mono PCM wrapped as a WAV file.</summary>
    public static byte[] Wrap(ReadOnlySpan<byte> pcm16, int sampleRate)
    {
        var file = new byte[44 + pcm16.Length];
        Header(sampleRate, pcm16.Length).CopyTo(file, 0);
        pcm16.CopyTo(file.AsSpan(44));
        return file;
    }
}

/// <summary>The client's audio cannot be used; the message says why and is safe to return.</summary>
public sealed class InvalidAudioException(string message) : Exception(message);
