namespace Mulan.Speech.Audio;

/// <summary>Tells an audio file's format from its first bytes: a file's name and declared type are never believed.</summary>
public static class AudioSniffer
{
    public static AudioFormat? Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length < 12)
        {
            return null;
        }
        if (head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WAVE"u8))
        {
            return AudioFormat.Wav;
        }
        if (head.StartsWith("fLaC"u8))
        {
            return AudioFormat.Flac;
        }
        if (head.StartsWith("OggS"u8))
        {
            return AudioFormat.Ogg;
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]))
        {
            return AudioFormat.WebM;
        }
        if (head[4..8].SequenceEqual("ftyp"u8))
        {
            return AudioFormat.Mp4;
        }
        if (head.StartsWith("#!AMR"u8))
        {
            return AudioFormat.Amr;
        }
        if (head.StartsWith("ID3"u8))
        {
            return AudioFormat.Mp3;
        }
        // An MPEG audio frame header: 11 sync bits, a valid layer and bitrate index; a second frame must follow where the
        // first one's length says, so that a text or image that happens to start with 0xFF 0xFx is not taken for MP3.
        return IsMpegFrame(head, 0, out var length) && (head.Length < length + 4 || IsMpegFrame(head, length, out _)) ? AudioFormat.Mp3 : null;
    }

    private static readonly int[] Mpeg1Layer3Bitrates = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0];
    private static readonly int[] Mpeg2Layer3Bitrates = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0];

    private static bool IsMpegFrame(ReadOnlySpan<byte> data, int at, out int length)
    {
        length = 0;
        if (at + 4 > data.Length || data[at] != 0xFF || (data[at + 1] & 0xE0) != 0xE0)
        {
            return false;
        }
        var version = (data[at + 1] >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
        var layer = (data[at + 1] >> 1) & 3;   // 1 = layer III
        var bitrateIndex = data[at + 2] >> 4;
        var rateIndex = (data[at + 2] >> 2) & 3;
        if (version == 1 || layer != 1 || bitrateIndex is 0 or 15 || rateIndex == 3)
        {
            return false;
        }
        int[] rates = version == 3 ? [44100, 48000, 32000] : version == 2 ? [22050, 24000, 16000] : [11025, 12000, 8000];
        var bitrate = (version == 3 ? Mpeg1Layer3Bitrates : Mpeg2Layer3Bitrates)[bitrateIndex] * 1000;
        var padding = (data[at + 2] >> 1) & 1;
        length = ((version == 3 ? 144 : 72) * bitrate / rates[rateIndex]) + padding;
        return length > 4;
    }
}
