namespace Mulan.Speech.Audio;

/// <summary>An audio container or codec, as detected from a file's first bytes (never from its name).</summary>
public enum AudioFormat { Wav, Mp3, Flac, Ogg, WebM, Mp4, Amr }

/// <summary>A client's audio file as received, with the format its content shows.</summary>
public sealed record AudioClip(byte[] Bytes, AudioFormat Format)
{
    public static string MediaType(AudioFormat format) => format switch
    {
        AudioFormat.Wav => "audio/wav",
        AudioFormat.Mp3 => "audio/mpeg",
        AudioFormat.Flac => "audio/flac",
        AudioFormat.Ogg => "audio/ogg",
        AudioFormat.WebM => "audio/webm",
        AudioFormat.Mp4 => "audio/mp4",
        _ => "audio/amr",
    };

    /// <summary>The file extension vendors expect for the format (OpenAI reads it from the upload's file name).</summary>
    public static string Extension(AudioFormat format) => format switch
    {
        AudioFormat.Wav => "wav",
        AudioFormat.Mp3 => "mp3",
        AudioFormat.Flac => "flac",
        AudioFormat.Ogg => "ogg",
        AudioFormat.WebM => "webm",
        AudioFormat.Mp4 => "m4a",
        _ => "amr",
    };
}
