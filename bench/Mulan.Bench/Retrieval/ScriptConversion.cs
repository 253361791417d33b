using System.Diagnostics;
using System.Text;
using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Bench.Retrieval;

/// <summary>
/// Converts questions between Chinese scripts at data-preparation time with OpenCC's own converter
/// (<c>opencc -c t2s.json</c>, phrase tables included), so the converted questions do not depend on the
/// analyzers' character folding. Without the CLI (<c>apt-get install -y opencc</c>) it falls back to
/// <see cref="ChineseScript"/>'s character tables and says so in the variant's name.
/// </summary>
internal static class ScriptConversion
{
    public static async Task<(IReadOnlyList<string> Texts, string Converter)> ConvertAsync(
        IReadOnlyList<string> texts, string config, Func<string, string> fallback)
    {
        try
        {
            var start = new ProcessStartInfo("opencc", ["-c", config])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardInputEncoding = new UTF8Encoding(false),
                StandardOutputEncoding = Encoding.UTF8,
            };
            using var process = Process.Start(start) ?? throw new InvalidOperationException("opencc did not start");
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            foreach (var text in texts)
            {
                await process.StandardInput.WriteLineAsync(text.ReplaceLineEndings(" "));
            }

            process.StandardInput.Close();
            await process.WaitForExitAsync();
            var lines = (await output).Split('\n');
            if (process.ExitCode != 0 || lines.Length < texts.Count)
            {
                throw new InvalidOperationException($"opencc -c {config} failed: {await errors}");
            }

            return (lines[..texts.Count], $"opencc {config}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return ([.. texts.Select(fallback)], "ChineseScript (opencc CLI not installed)");
        }
    }
}
