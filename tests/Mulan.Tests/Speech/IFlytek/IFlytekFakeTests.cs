using System.Text.Json.Nodes;
using Mulan.Speech.Adapters.IFlytek;

namespace Mulan.Tests.Speech.IFlytek;

/// <summary>The fake refuses what iFlytek refuses, so that the adapter's tests would catch a framing mistake.</summary>
public sealed class IFlytekFakeTests : IFlytekFixture
{
    private async Task<JsonObject> SessionAsync(string path, params JsonObject[] frames)
    {
        var call = Call("iat");
        var (socketBase, fullPath) = IFlytekAdapter.Endpoint(Fake.Origin, path);
        await using var socket = await IFlytekSocket.ConnectAsync(call, IFlytekSocket.Sign(socketBase, fullPath, "fakekey", Fake.ApiKey, TimeProvider.System), TimeProvider.System, CancellationToken.None);
        foreach (var frame in frames)
        {
            await socket.SendAsync(frame, CancellationToken.None);
        }
        return (await socket.ReceiveAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)))!;
    }

    private static JsonObject First(string audio = "", int status = 0, string format = "audio/L16;rate=16000") => new()
    {
        ["common"] = new JsonObject { ["app_id"] = "fakeapp" },
        ["business"] = new JsonObject { ["language"] = "zh_cn", ["domain"] = "iat", ["accent"] = "mandarin" },
        ["data"] = new JsonObject { ["status"] = status, ["format"] = format, ["encoding"] = "raw", ["audio"] = audio },
    };

    private static JsonObject Next(int status, byte[] audio) => new()
    {
        ["data"] = new JsonObject { ["status"] = status, ["format"] = "audio/L16;rate=16000", ["encoding"] = "raw", ["audio"] = Convert.ToBase64String(audio) },
    };

    [Fact]
    public async Task A_session_that_does_not_start_with_status_0_is_refused()
    {
        var answer = await SessionAsync("/v2/iat", First(status: 1));

        Assert.Equal(10163, (int?)answer["code"]);
    }

    [Fact]
    public async Task Another_audio_format_is_refused()
    {
        var answer = await SessionAsync("/v2/iat", First(format: "audio/L16;rate=44100"));

        Assert.Equal(10163, (int?)answer["code"]);
    }

    [Fact]
    public async Task Audio_over_60_seconds_in_one_session_is_refused()
    {
        var second = new byte[32_000];
        var frames = new List<JsonObject> { First() };
        frames.AddRange(Enumerable.Range(0, 61).Select(_ => Next(1, second)));

        var answer = await SessionAsync("/v2/iat", [.. frames]);

        Assert.Equal(10163, (int?)answer["code"]);
        Assert.Contains("60 s", (string?)answer["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tts_text_of_8000_base64_bytes_is_refused()
    {
        var text = new string('a', 6000); // 8000 base64 bytes
        var answer = await SessionAsync("/v2/tts", new JsonObject
        {
            ["common"] = new JsonObject { ["app_id"] = "fakeapp" },
            ["business"] = new JsonObject { ["aue"] = "raw", ["auf"] = "audio/L16;rate=16000", ["vcn"] = "xiaoyan", ["tte"] = "UTF8" },
            ["data"] = new JsonObject { ["status"] = 2, ["text"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text)) },
        });

        Assert.Equal(10163, (int?)answer["code"]);
    }
}
