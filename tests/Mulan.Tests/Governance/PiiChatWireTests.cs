using System.Text.Json.Nodes;
using Mulan.Governance.Pii;

namespace Mulan.Tests.Governance;

/// <summary>Masking an OpenAI chat request body and restoring a chat.completion answer.</summary>
public sealed class PiiChatWireTests
{
    private static JsonObject Request() => JsonNode.Parse("""
        {
          "model": "chat",
          "messages": [
            { "role": "system", "content": "客服邮箱 help@example.com" },
            { "role": "user", "content": "我的手机是13800138000，身份证110101199003074573" },
            { "role": "user", "content": [
              { "type": "text", "text": "卡号 4111 1111 1111 1111" },
              { "type": "image_url", "image_url": { "url": "https://example.com/13800138000.png" } } ] },
            { "role": "assistant", "content": null, "tool_calls": [
              { "id": "call_1", "type": "function", "function": { "name": "lookup", "arguments": "{\"phone\":\"13800138000\",\"card\":4111111111111111,\"note\":\"联系 a@b.com\"}" } } ] },
            { "role": "tool", "tool_call_id": "call_1", "content": "用户 13900139000 已找到" }
          ]
        }
        """)!.AsObject();

    [Fact]
    public void Every_user_text_in_a_request_is_masked_and_the_input_is_untouched()
    {
        var request = Request();
        var before = request.ToJsonString();
        var masked = Assert.IsType<PiiBodyResult.Masked>(PiiTests.Guard.MaskChatRequest(PiiTests.MaskAll, request));
        Assert.Equal(before, request.ToJsonString());
        var messages = masked.Body["messages"]!.AsArray();
        Assert.Equal("客服邮箱 ⟦PII:email:1⟧", (string?)messages[0]!["content"]);
        Assert.Equal("我的手机是⟦PII:china_mobile:1⟧，身份证⟦PII:china_id:1⟧", (string?)messages[1]!["content"]);
        Assert.Equal("卡号 ⟦PII:bank_card:1⟧", (string?)messages[2]!["content"]![0]!["text"]);
        Assert.Equal("https://example.com/13800138000.png", (string?)messages[2]!["content"]![1]!["image_url"]!["url"]); // not text
        var arguments = JsonNode.Parse((string)messages[3]!["tool_calls"]![0]!["function"]!["arguments"]!)!;
        Assert.Equal("⟦PII:china_mobile:1⟧", (string?)arguments["phone"]); // same value, same placeholder across messages
        Assert.Equal("⟦PII:bank_card:2⟧", (string?)arguments["card"]);     // a number that is a card becomes a placeholder
        Assert.Equal("联系 ⟦PII:email:2⟧", (string?)arguments["note"]);
        Assert.Equal("用户 ⟦PII:china_mobile:2⟧ 已找到", (string?)messages[4]!["content"]);
        Assert.Equal("chat", (string?)masked.Body["model"]);
        Assert.Equal(7, masked.Vault.Count);
    }

    [Fact]
    public void A_request_without_pii_keeps_its_arguments_byte_for_byte()
    {
        var request = JsonNode.Parse("""{"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{ \"x\" : 1 }"}}]}]}""")!.AsObject();
        var masked = Assert.IsType<PiiBodyResult.Masked>(PiiTests.Guard.MaskChatRequest(PiiTests.MaskAll, request));
        Assert.Equal(request.ToJsonString(), masked.Body.ToJsonString());
        Assert.Equal(0, masked.Vault.Count);
    }

    [Fact]
    public void Arguments_that_are_not_json_are_masked_as_text()
    {
        var request = JsonNode.Parse("""{"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{phone: 13800138000"}}]}]}""")!.AsObject();
        var masked = Assert.IsType<PiiBodyResult.Masked>(PiiTests.Guard.MaskChatRequest(PiiTests.MaskAll, request));
        Assert.Equal("{phone: ⟦PII:china_mobile:1⟧", (string?)masked.Body["messages"]![0]!["tool_calls"]![0]!["function"]!["arguments"]);
    }

    [Theory]
    [InlineData(3)] // in tool-call arguments
    [InlineData(4)] // in a tool result
    [InlineData(2)] // in a text part
    public void A_block_anywhere_in_the_request_blocks_it(int message)
    {
        var rule = new PiiRule(PiiKinds.BankCard, PiiAction.Block);
        var policy = new PiiPolicy([rule, new PiiRule(PiiKinds.ChinaMobile, PiiAction.Block)]);
        var request = Request();
        // Keep the sensitive data only in the message under test.
        for (var i = 0; i < 5; i++)
        {
            if (i != message)
            {
                request["messages"]![i]!["content"] = "nothing here";
                request["messages"]![i]!.AsObject().Remove("tool_calls");
            }
        }
        var blocked = Assert.IsType<PiiBodyResult.Blocked>(PiiTests.Guard.MaskChatRequest(policy, request));
        Assert.Contains(blocked.Kind, new[] { PiiKinds.BankCard, PiiKinds.ChinaMobile });
        Assert.Equal(blocked.Kind, blocked.Rule.Kind);
        Assert.Equal(PiiAction.Block, blocked.Rule.Action);
    }

    [Fact]
    public void A_completion_gets_its_originals_back_in_content_and_arguments()
    {
        var masked = Assert.IsType<PiiBodyResult.Masked>(PiiTests.Guard.MaskChatRequest(PiiTests.MaskAll, Request()));
        var completion = JsonNode.Parse("""
            {
              "id": "chatcmpl-1", "object": "chat.completion",
              "choices": [
                { "index": 0, "finish_reason": "tool_calls", "message": { "role": "assistant",
                  "content": "好的，拨打⟦PII:china_mobile:1⟧，邮件⟦PII:email:1⟧，未知⟦PII:email:9⟧",
                  "tool_calls": [ { "id": "c", "type": "function", "function": { "name": "send", "arguments": "{\"to\":\"⟦PII:email:2⟧\",\"id\":\"⟦PII:china_id:1⟧\"}" } } ] } }
              ],
              "usage": { "prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3 }
            }
            """)!.AsObject();
        var before = completion.ToJsonString();
        var restored = masked.Vault.RestoreChatCompletion(completion);
        Assert.Equal(before, completion.ToJsonString());
        var message = restored["choices"]![0]!["message"]!;
        Assert.Equal("好的，拨打13800138000，邮件help@example.com，未知⟦PII:email:9⟧", (string?)message["content"]);
        Assert.Equal("{\"to\":\"a@b.com\",\"id\":\"110101199003074573\"}", (string?)message["tool_calls"]![0]!["function"]!["arguments"]);
        Assert.Equal(3, (int)restored["usage"]!["total_tokens"]!);
    }

    [Fact]
    public void Masking_then_restoring_every_text_gives_back_the_request_texts()
    {
        var request = Request();
        var masked = Assert.IsType<PiiBodyResult.Masked>(PiiTests.Guard.MaskChatRequest(PiiTests.MaskAll, request));
        var messages = masked.Body["messages"]!.AsArray();
        Assert.Equal((string?)request["messages"]![1]!["content"], masked.Vault.Restore((string)messages[1]!["content"]!));
        Assert.Equal((string?)request["messages"]![4]!["content"], masked.Vault.Restore((string)messages[4]!["content"]!));
    }
}
