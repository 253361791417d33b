using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Mulan.Speech.Adapters;
using Mulan.Speech.Engines;

namespace Mulan.Speech.Audio;

/// <summary>
/// Converts audio with ffmpeg (Debian's): a client's upload to the 16 kHz mono PCM vendors and engines want, and
/// synthesized audio to the format the client asked for. WAV files of 16-bit PCM need no ffmpeg.
/// </summary>
public sealed class AudioConverter(IOptions<SpeechOptions> options)
{
    private readonly SpeechOptions _options = options.Value;
    private readonly Lazy<string?> _ffmpeg = new(() => EngineProcess.Find(options.Value.FfmpegPath ?? "ffmpeg"));

    public bool HasFfmpeg => _ffmpeg.Value is not null;

    /// <summary>The clip as 16 kHz 16-bit mono PCM, at most <paramref name="max"/> long plus one second (so that "too long"
    /// can be told apart from "exactly at the limit").</summary>
    /// <exception cref="InvalidAudioException">truncated, corrupt or undecodable audio.</exception>
    public async Task<byte[]> DecodeAsync(AudioClip clip, TimeSpan max, CancellationToken ct)
    {
        WavInfo? wav = null;
        if (clip.Format == AudioFormat.Wav)
        {
            wav = Wav.Read(clip.Bytes);
            if (wav is { IsPcm16: true, Channels: 1, SampleRate: 16_000 })
            {
                return clip.Bytes.AsSpan(wav.DataOffset, wav.DataLength).ToArray();
            }
        }
        if (_ffmpeg.Value is not { } ffmpeg)
        {
            return wav is { IsPcm16: true } pcm16
                ? Resample(clip.Bytes.AsSpan(pcm16.DataOffset, pcm16.DataLength), pcm16.Channels, pcm16.SampleRate)
                : throw new InvalidAudioException($"{clip.Format} audio needs ffmpeg on the server (apt-get install ffmpeg); 16-bit PCM WAV works without it");
        }
        // A file, not a pipe: MP4/M4A keep their index at the end, which ffmpeg can only reach by seeking.
        var path = Path.Combine(Path.GetTempPath(), $"mulan-audio-{Guid.NewGuid():N}.{AudioClip.Extension(clip.Format)}");
        await File.WriteAllBytesAsync(path, clip.Bytes, ct);
        try
        {
            var seconds = (max + TimeSpan.FromSeconds(1)).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            var run = await EngineProcess.RunAsync(ffmpeg,
                ["-hide_banner", "-nostdin", "-v", "error", "-i", path, "-t", seconds, "-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"],
                null, TimeSpan.FromSeconds(_options.EngineTimeoutSeconds), (long)((max.TotalSeconds + 2) * 32_000), ct);
            if (run.ExitCode != 0 || run.Output.Length == 0)
            {
                throw new InvalidAudioException($"the {clip.Format.ToString().ToLowerInvariant()} audio could not be decoded (truncated or corrupt file)");
            }
            return run.Output;
        }
        catch (EngineException e)
        {
            throw new InvalidAudioException($"the audio could not be decoded: {e.Message}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>True when no sample rises above about −54 dBFS: nothing a recognizer could hear.</summary>
    public static bool IsSilent(ReadOnlySpan<byte> pcm16)
    {
        for (var i = 0; i + 1 < pcm16.Length; i += 2)
        {
            if (Math.Abs((int)BinaryPrimitives.ReadInt16LittleEndian(pcm16[i..])) > 64)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The synthesized audio in <paramref name="target"/>, streamed: chunks go to ffmpeg as they come and its output comes
    /// back as it is encoded. Same encoding in and out passes through untouched. OpenAI's <c>pcm</c> is 24 kHz.
    /// </summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> EncodeAsync(SpeechAudio audio, AudioEncoding target, [EnumeratorCancellation] CancellationToken ct)
    {
        if (audio.Encoding == target && (target != AudioEncoding.Pcm16 || audio.SampleRate == 24_000))
        {
            await foreach (var chunk in audio.Chunks.WithCancellation(ct))
            {
                yield return chunk;
            }
            yield break;
        }
        if (_ffmpeg.Value is not { } ffmpeg)
        {
            if (audio.Encoding == AudioEncoding.Pcm16 && target == AudioEncoding.Wav)
            {
                // Without ffmpeg a WAV is still possible: its header needs the length, so the audio is gathered first.
                using var all = new MemoryStream();
                await foreach (var chunk in audio.Chunks.WithCancellation(ct))
                {
                    all.Write(chunk.Span);
                }
                yield return Wav.Wrap(all.GetBuffer().AsSpan(0, (int)all.Length), audio.SampleRate);
                yield break;
            }
            throw new InvalidAudioException($"response_format {Name(target)} needs ffmpeg on the server (apt-get install ffmpeg)");
        }
        string[] input = audio.Encoding switch
        {
            AudioEncoding.Pcm16 => ["-f", "s16le", "-ar", audio.SampleRate.ToString(CultureInfo.InvariantCulture), "-ac", "1"],
            AudioEncoding.Wav => ["-f", "wav"],
            AudioEncoding.Mp3 => ["-f", "mp3"],
            AudioEncoding.Opus => ["-f", "ogg"],
            AudioEncoding.Aac => ["-f", "aac"],
            _ => ["-f", "flac"],
        };
        string[] output = target switch
        {
            AudioEncoding.Mp3 => ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
            AudioEncoding.Opus => ["-c:a", "libopus", "-b:a", "32k", "-f", "ogg"],
            AudioEncoding.Aac => ["-c:a", "aac", "-b:a", "64k", "-f", "adts"],
            AudioEncoding.Flac => ["-c:a", "flac", "-f", "flac"],
            AudioEncoding.Wav => ["-c:a", "pcm_s16le", "-ac", "1", "-f", "wav"],
            _ => ["-c:a", "pcm_s16le", "-ac", "1", "-ar", "24000", "-f", "s16le"],
        };
        using var process = EngineProcess.Start(ffmpeg, ["-hide_banner", "-nostdin", "-v", "error", .. input, "-i", "pipe:0", .. output, "pipe:1"], redirectInput: true);
        using var kill = ct.Register(() => EngineProcess.Kill(process));
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var feed = Task.Run(async () =>
        {
            try
            {
                await foreach (var chunk in audio.Chunks.WithCancellation(ct))
                {
                    await process.StandardInput.BaseStream.WriteAsync(chunk, ct);
                    await process.StandardInput.BaseStream.FlushAsync(ct);
                }
            }
            finally
            {
                try
                {
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // ffmpeg already gone; its exit code tells.
                }
            }
        }, CancellationToken.None);
        var buffer = new byte[16 * 1024];
        var stdout = process.StandardOutput.BaseStream;
        int n;
        while ((n = await stdout.ReadAsync(buffer, ct)) > 0)
        {
            yield return buffer.AsMemory(0, n).ToArray();
        }
        // A vendor failure while feeding surfaces here, after what was already encoded.
        await feed;
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new EngineException($"ffmpeg could not encode {Name(target)}: {FirstLine(await errors)}");
        }
    }

    public static string Name(AudioEncoding encoding) => encoding switch
    {
        AudioEncoding.Pcm16 => "pcm",
        _ => encoding.ToString().ToLowerInvariant(),
    };

    public static string MediaType(AudioEncoding encoding) => encoding switch
    {
        AudioEncoding.Mp3 => "audio/mpeg",
        AudioEncoding.Opus => "audio/ogg",
        AudioEncoding.Aac => "audio/aac",
        AudioEncoding.Flac => "audio/flac",
        AudioEncoding.Wav => "audio/wav",
        _ => "audio/pcm",
    };

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    // Without ffmpeg: 16-bit PCM of any rate and channel count to 16 kHz mono, channels averaged and samples linearly
    // interpolated. Coarser than ffmpeg's filters, good enough for speech recognition.
    private static byte[] Resample(ReadOnlySpan<byte> pcm, int channels, int rate)
    {
        var frames = pcm.Length / (2 * channels);
        var mono = new float[frames];
        for (var f = 0; f < frames; f++)
        {
            var sum = 0;
            for (var c = 0; c < channels; c++)
            {
                sum += BinaryPrimitives.ReadInt16LittleEndian(pcm[(((f * channels) + c) * 2)..]);
            }
            mono[f] = sum / (float)channels;
        }
        var outFrames = (int)((long)frames * 16_000 / rate);
        var result = new byte[outFrames * 2];
        for (var i = 0; i < outFrames; i++)
        {
            var position = i * (double)rate / 16_000;
            var left = (int)position;
            var right = Math.Min(left + 1, frames - 1);
            var value = mono[left] + ((mono[right] - mono[left]) * (float)(position - left));
            BinaryPrimitives.WriteInt16LittleEndian(result.AsSpan(i * 2), (short)Math.Clamp(value, short.MinValue, short.MaxValue));
        }
        return result;
    }
}
