using System.Text.Json.Nodes;
using Mulan.Gateway.Adapters;

namespace Mulan.Speech.Adapters.Tencent;

/// <summary>
/// Tencent Cloud API 3.0 errors of the ASR and OCR products → canonical errors. Codes from the common error table
/// (cloud.tencent.com/document/api/1093/35647 for ASR, /866/33528 for OCR, the common codes in /1093/35649).
/// </summary>
public static class TencentCloudErrors
{
    /// <summary>The error of an answer (<c>Response.Error</c>), or null when it is none.</summary>
    public static VendorError? ErrorIn(JsonNode? answer, string product)
    {
        var error = answer?["Response"]?["Error"];
        return error is JsonObject e ? Map(Text(e["Code"]), Text(e["Message"]), product) : null;
    }

    public static VendorError Map(string? code, string? message, string product)
    {
        code ??= "";
        var text = $"Tencent Cloud {product}: {(code.Length > 0 ? code : "error")}: {message ?? "no message"}";
        // Specific codes before their families: LimitExceeded.TooLargeFileError is a size limit, not a rate limit.
        switch (code)
        {
            case "LimitExceeded.TooLargeFileError" or "FailedOperation.ImageDecodeFailed" or "FailedOperation.ImageSizeTooLarge"
                or "FailedOperation.ImageBlur" or "FailedOperation.UnKnowFileTypeError" or "FailedOperation.DownLoadError"
                or "FailedOperation.ErrorDownFile" or "FailedOperation.ErrorFileFormat" or "FailedOperation.NoSuchTask":
                return VendorError.BadRequest(text);
            case "ResourceUnavailable.InArrears" or "ResourceUnavailable.ResourcePackageRunOut" or "ResourceUnavailable.ServiceStop"
                or "ResourcesSoldOut.ChargeStatusException" or "FailedOperation.ServiceIsolate" or "FailedOperation.UserHasNoFreeAmount"
                or "FailedOperation.UserNotRegistered" or "FailedOperation.NoFreeAmount" or "FailedOperation.NotActivated"
                or "FailedOperation.ArrearsError" or "FailedOperation.CountLimitError" or "UnauthorizedOperation.ServiceNotOpened":
                return VendorError.Quota(text);
            case "FailedOperation.EngineServerLimitExceeded" or "ResourceUnavailable.ServiceBusy":
                return VendorError.Busy(text);
            case "InvalidAction" or "NoSuchVersion" or "ActionOffline" or "UnsupportedRegion" or "UnsupportedOperation":
                return new VendorError(501, VendorError.Unsupported, text);
        }
        if (Is(code, "AuthFailure") || Is(code, "UnauthorizedOperation"))
        {
            return VendorError.Auth(text);
        }
        if (Is(code, "RequestLimitExceeded") || Is(code, "LimitExceeded"))
        {
            return VendorError.RateLimit(text);
        }
        if (Is(code, "ResourceInsufficient") || Is(code, "ResourceUnavailable"))
        {
            return VendorError.Quota(text);
        }
        if (Is(code, "InvalidParameter") || Is(code, "InvalidParameterValue") || Is(code, "MissingParameter") || Is(code, "UnknownParameter"))
        {
            return VendorError.BadRequest(text);
        }
        // InternalError, FailedOperation.* (engine failures) and anything unknown: the vendor's side.
        return VendorError.Server(text);
    }

    internal static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool Is(string code, string family) =>
        code == family || (code.StartsWith(family, StringComparison.Ordinal) && code.Length > family.Length && code[family.Length] == '.');
}
