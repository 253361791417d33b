// The embeddable chat: <script src="https://mulan.example/widget.js" data-app="slug" data-share="token" async></script>
// adds a floating button that opens the app's chat page in an iframe. Everything lives in this closure (no globals), the
// styles are set through the CSSOM (allowed under a strict style-src, unlike a <style> element or style attribute), and
// the share token travels in the iframe URL's fragment, which is never sent to a server.
(() => {
  const script = document.currentScript;
  if (!script || !script.dataset.app) return;
  const origin = new URL(script.src).origin;
  const slug = script.dataset.app;
  const share = script.dataset.share;
  const zh = (navigator.language || '').toLowerCase().startsWith('zh');
  const label = { open: zh ? '打开对话' : 'Open chat', close: zh ? '关闭对话' : 'Close chat' };
  const css = (node, rules) => { for (const [k, v] of Object.entries(rules)) node.style.setProperty(k, v); return node; };

  const button = css(document.createElement('button'), {
    position: 'fixed', right: '20px', bottom: '20px', width: '56px', height: '56px', 'border-radius': '28px', border: '0',
    background: '#1f5fbf', color: '#ffffff', 'font-size': '24px', cursor: 'pointer', 'z-index': '2147483646', 'box-shadow': '0 2px 10px rgba(0,0,0,.25)',
  });
  button.type = 'button';
  button.textContent = '💬';
  button.setAttribute('aria-label', label.open);
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('data-mulan-widget', 'button');

  let frame = null;
  const open = () => {
    if (!frame) {
      frame = css(document.createElement('iframe'), {
        position: 'fixed', right: '20px', bottom: '88px', width: 'min(400px, calc(100vw - 40px))', height: 'min(600px, calc(100vh - 120px))',
        border: '1px solid #d5d9e0', 'border-radius': '8px', background: '#ffffff', 'z-index': '2147483647', 'box-shadow': '0 4px 24px rgba(0,0,0,.2)',
      });
      frame.title = slug;
      frame.setAttribute('data-mulan-widget', 'frame');
      frame.referrerPolicy = 'no-referrer';
      frame.src = `${origin}/chat/${encodeURIComponent(slug)}?embed=1${share ? '#share=' + encodeURIComponent(share) : ''}`;
      document.body.append(frame);
    }
    frame.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    button.setAttribute('aria-label', label.close);
  };
  const close = () => {
    frame.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-label', label.open);
  };
  button.addEventListener('click', () => (frame && !frame.hidden ? close() : open()));
  const mount = () => document.body.append(button);
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
})();
