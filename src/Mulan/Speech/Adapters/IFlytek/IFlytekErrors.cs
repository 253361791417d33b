using Mulan.Gateway.Adapters;

namespace Mulan.Speech.Adapters.IFlytek;

/// <summary>
/// iFlytek's speech error codes (the <c>code</c> of an IAT or TTS frame) in the gateway's canonical terms. The codes come
/// from the error tables of the IAT and online-TTS WebAPI documents (xfyun.cn/doc/asr/voicedictation/API.html,
/// xfyun.cn/doc/tts/online_tts/API.html) and the MSC table they reuse (10105–10117 keep their MSC meanings).
/// </summary>
public static class IFlytekErrors
{
    public static VendorError Map(int code, string? message)
    {
        var text = $"iFlytek: {message ?? "error"} (code {code})";
        return code switch
        {
            // 10005 licc fail, 10105 no permission (APPID/APIKey/IP whitelist), 10313 appid empty or not matching the APIKey.
            10005 or 10105 or 10313 => VendorError.Auth(text),
            // 11200 is both "this APPID may not use the capability (or voice)" and "its licensed volume is used up".
            11200 when VolumeExhausted(message) => VendorError.Quota(text),
            11200 => VendorError.Auth(text),
            // 10110 no license left, 11201 daily volume reached.
            10110 or 11201 => VendorError.Quota(text),
            // 11202 per-second limit, 11203 concurrency limit.
            11202 or 11203 => VendorError.RateLimit(text),
            // 10010 the engine's licences are all in use, 10123 busy.
            10010 or 10123 => VendorError.Busy(text),
            // Parameters and data: 10006/10007 missing/invalid audio rate, 10106/10107 invalid parameter (value),
            // 10109 invalid data, 10117 text over the limit, 10139 invalid parameter, 10160 request JSON cannot be parsed,
            // 10161 base64 cannot be decoded, 10163 parameter validation (schema) failed, 10043 the audio cannot be decoded.
            10006 or 10007 or 10043 or 10106 or 10107 or 10109 or 10117 or 10139 or 10160 or 10161 or 10163 => VendorError.BadRequest(text),
            // 10014/10019/10114/10200 time-outs, 10222 engine network, 10700 engine error and anything else: the vendor's side.
            _ => VendorError.Server(text),
        };
    }

    /// <summary>A refused handshake: iFlytek answers a bad signature with 401 and a clock skew or IP whitelist with 403.</summary>
    public static VendorError Handshake(int status) => status switch
    {
        401 or 403 => new VendorError(status, VendorError.AuthFailed,
            $"iFlytek refused the signed handshake (HTTP {status}): check the provider's APPID:APIKey:APISecret and the gateway's clock"),
        _ => VendorError.ForStatus(status, $"iFlytek refused the handshake (HTTP {status})"),
    };

    private static readonly string[] VolumeWords = ["limit", "exceed", "exhaust", "volume", "not enough", "no enough", "insufficient"];

    private static bool VolumeExhausted(string? message) =>
        message is not null && VolumeWords.Any(word => message.Contains(word, StringComparison.OrdinalIgnoreCase));
}
