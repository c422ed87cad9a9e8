<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US" sourcelanguage="ja_JP">
  <context>
    <name>mykey</name>
    <message>
      <location filename="ui/screens/checkout.py" line="52" />
      <source>  立替 {n:,} ポイント</source>
      <translation>  advanced {n:,} points</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="64" />
      <source> ポイント</source>
      <translation> points</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="132" />
      <source> 枚</source>
      <translation> vouchers</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="144" />
      <source>%Y年%m月</source>
      <translation>%B %Y</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="140" />
      <source>%Y年%m月%d日</source>
      <translation>%d %B %Y</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="264" />
      <source>13桁（QRが読めないとき）</source>
      <translation>13 digits (when the QR cannot be read)</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="79" />
      <source>1回</source>
      <translation>Per transaction</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="80" />
      <source>1枚1日</source>
      <translation>Per card per day</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="148" />
      <source>1枚のポイント</source>
      <translation>Points each</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="257" />
      <source>2Dスキャナーの読取がここに入ります</source>
      <translation>A 2D scanner types the code here</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="41" />
      <source>A4（8枚・切取線）</source>
      <translation>A4 (8 per sheet, cut marks)</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="100" />
      <source>CSVで保存</source>
      <translation>Save as CSV</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="81" />
      <source>F10 設定で端末を登録してください</source>
      <translation>Enroll this terminal in F10 Settings</translation>
    </message>
    <message>
      <location filename="ui/main_window.py" line="290" />
      <source>MyKey ポイント端末 — {name}</source>
      <translation>MyKey point terminal — {name}</translation>
    </message>
    <message>
      <location filename="ui/main_window.py" line="287" />
      <source>MyKey ポイント端末（未登録）</source>
      <translation>MyKey point terminal (not enrolled)</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="449" />
      <source>OK オフラインで受付 {p}</source>
      <translation>OK, accepted offline {p}</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="448" />
      <source>OK 使えます {p}</source>
      <translation>OK, accepted {p}</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="190" />
      <source>PDFに保存</source>
      <translation>Save as PDF</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="477" />
      <source>PDFに保存しました: {p}</source>
      <translation>Saved as PDF: {p}</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="204" />
      <source>QRコードを読み取れました: {t}</source>
      <translation>QR code read: {t}</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="205" />
      <source>{n:,} pt</source>
      <translation>{n:,} pt</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="262" />
      <source>{name}
残高 {before:,} → {after:,} ポイント</source>
      <translation>{name}
Balance {before:,} → {after:,} points</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="46" />
      <source>{name}  {points:,} ポイント</source>
      <translation>{name}  {points:,} points</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="150" />
      <source>{name}（見つかりません）</source>
      <translation>{name} (not found)</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="208" />
      <source>{n} 時間</source>
      <translation>{n} hours</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="404" />
      <source>{n}枚  合計 {t:,} ポイント</source>
      <translation>{n} vouchers, {t:,} points in total</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="329" />
      <source>{n}枚  合計 {t:,} ポイント
残高 {b:,} → {a:,} ポイント</source>
      <translation>{n} vouchers, {t:,} points in total
Balance {b:,} → {a:,} points</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="513" />
      <source>{n}枚 {p:,} pt</source>
      <translation>{n} vouchers, {p:,} pt</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="288" />
      <source>{p:,} ポイント</source>
      <translation>{p:,} points</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="134" />
      <source>{p:,} ポイントを付与しました</source>
      <translation>{p:,} points granted</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="260" />
      <source>{p:,} ポイントを使います</source>
      <translation>Use {p:,} points</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="78" />
      <source>● オフライン</source>
      <translation>● Offline</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="78" />
      <source>● オンライン</source>
      <translation>● Online</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="71" />
      <source>● 接続未確認</source>
      <translation>● Not checked yet</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="75" />
      <source>● 未登録</source>
      <translation>● Not enrolled</translation>
    </message>
    <message>
      <location filename="ui/screens/mykey_setup.py" line="131" />
      <source>「{id}」はすでに使われています。別のIDか下の候補を選んでください。</source>
      <translation>"{id}" is already taken. Choose another ID or a suggestion below.</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="540" />
      <source>【再発行】</source>
      <translation>[Reissue]</translation>
    </message>
    <message>
      <location filename="ui/screens/registry.py" line="53" />
      <source>お会計</source>
      <translation>Checkout</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="61" />
      <source>お会計: お客様のマイナンバーカードでポイントを使います</source>
      <translation>Checkout: the customer pays with points on their My Number Card</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="338" />
      <source>お客様がご希望のときに印刷します。</source>
      <translation>Print it when the customer asks for it.</translation>
    </message>
    <message>
      <location filename="ui/widgets.py" line="119" />
      <source>お客様ご自身で入力してください（画面の数字またはキーボード）</source>
      <translation>Please enter it yourself (on-screen digits or the keyboard)</translation>
    </message>
    <message>
      <location filename="ui/screens/mykey_setup.py" line="79" />
      <source>お客様に確認していただいてから「登録する」を押してください。</source>
      <translation>Press "Register" after the customer has checked it.</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="167" />
      <source>お客様のカードで確定して発行します</source>
      <translation>Confirmed with the customer's card, then issued</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="143" />
      <source>お客様へ: 内容をご確認ください</source>
      <translation>For the customer: please check</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="40" />
      <source>お店</source>
      <translation>Shop</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="30" />
      <source>お店（青果店）</source>
      <translation>Shop (greengrocer)</translation>
    </message>
    <message>
      <location filename="ui/screens/library.py" line="49" />
      <source>このカードには利用者番号が登録されていません</source>
      <translation>No patron number is linked to this card</translation>
    </message>
    <message>
      <location filename="ui/screens/mykey_setup.py" line="74" />
      <source>このマイキーIDで登録します</source>
      <translation>Register this MyKey ID</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="350" />
      <source>この取引は記録されていません。ポイントは動いていません。</source>
      <translation>This transaction was not recorded. No points moved.</translation>
    </message>
    <message>
      <location filename="ui/widgets.py" line="107" />
      <source>この暗証番号で確定しますか？</source>
      <translation>Send this PIN?</translation>
    </message>
    <message>
      <source>この機能は次の版で使えるようになります。</source>
      <translation type="obsolete">This feature comes in the next version.</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="531" />
      <source>この端末にはポイント券の署名鍵がありません。</source>
      <translation>This terminal has no voucher signing key.</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="372" />
      <source>この端末にはポイント券の署名鍵がありません。端末を登録し直してください。</source>
      <translation>This terminal has no voucher signing key. Enroll the terminal again.</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="125" />
      <source>この端末を登録する</source>
      <translation>Enroll this terminal</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="329" />
      <source>ご利用控えをプレビュー (Enter)</source>
      <translation>Preview the slip (Enter)</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="162" />
      <source>ご利用控えを印刷 (Enter)</source>
      <translation>Print the slip (Enter)</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="394" />
      <source>ご利用控えを印刷しました。</source>
      <translation>The slip was printed.</translation>
    </message>
    <message>
      <location filename="ui/screens/service_id.py" line="80" />
      <source>なし</source>
      <translation>none</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="147" />
      <source>はい、使います (Enter)</source>
      <translation>Yes, use them (Enter)</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="21" />
      <source>ふつうのカード</source>
      <translation>Ordinary card</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="157" />
      <source>または券ごとのポイントを指定</source>
      <translation>Or give the points of each voucher</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="275" />
      <source>まとめて読取（束を続けて読み取る）</source>
      <translation>Batch scan (a stack, one after another)</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="107" />
      <source>もう一度 (Enter)</source>
      <translation>Again (Enter)</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="218" />
      <source>もう一度カードを読む (Enter)</source>
      <translation>Read the card again (Enter)</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="392" />
      <source>もう一度印刷</source>
      <translation>Print again</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="117" />
      <source>イベント名を入力してください</source>
      <translation>Enter the event name</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="69" />
      <source>イベント名（例: 救命講習 11/24）</source>
      <translation>Event name (e.g. First aid 11/24)</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="96" />
      <source>オフラインです。残高は前回の情報です。オフラインの上限内で受け付けます。</source>
      <translation>Offline. The balance is from the last contact; accepted within the offline limits.</translation>
    </message>
    <message>
      <location filename="ui/screens/outcome_text.py" line="23" />
      <source>オフラインで受け付けました（完了）</source>
      <translation>Accepted offline (done)</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="73" />
      <source>オフラインの上限（サーバーで設定・表示のみ）</source>
      <translation>Offline limits (set on the server; read-only)</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="96" />
      <source>オフライン受付</source>
      <translation>Accepted offline</translation>
    </message>
    <message>
      <location filename="ui/screens/labels.py" line="36" />
      <source>オフライン受付・未送信</source>
      <translation>Accepted offline, not sent</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="117" />
      <source>カメラ</source>
      <translation>Camera</translation>
    </message>
    <message>
      <location filename="ui/camera_view.py" line="52" />
      <source>カメラ {n}</source>
      <translation>Camera {n}</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="98" />
      <source>カメラ: {s}</source>
      <translation>Camera: {s}</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="91" />
      <source>カメラとプリンター</source>
      <translation>Camera and printer</translation>
    </message>
    <message>
      <source>カメラとプリンターの設定は、ポイント券の機能と一緒に追加されます。</source>
      <translation type="obsolete">Camera and printer settings come with the voucher features.</translation>
    </message>
    <message>
      <location filename="ui/camera_view.py" line="117" />
      <source>カメラは止まっています</source>
      <translation>The camera is off</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="413" />
      <source>カメラを使えません。スキャナー入力か券番号の入力で受け付けできます。</source>
      <translation>The camera cannot be used. You can still use the scanner field or type the voucher number.</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="403" />
      <source>カメラを停止</source>
      <translation>Stop camera</translation>
    </message>
    <message>
      <location filename="ui/camera_view.py" line="142" />
      <source>カメラを起動しています…</source>
      <translation>Starting the camera…</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="241" />
      <source>カメラを開始</source>
      <translation>Start camera</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="101" />
      <source>カメラ番号（0, 1, …）、動画ファイル、または画像フォルダ</source>
      <translation>Camera number (0, 1, …), a video file or a folder of images</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="140" />
      <source>カード</source>
      <translation>card</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="49" />
      <source>カードで確定しています。カードを動かさないでください。</source>
      <translation>The card is confirming. Please do not move the card.</translation>
    </message>
    <message>
      <location filename="ui/screens/mykey_setup.py" line="31" />
      <source>カードと暗証番号</source>
      <translation>Card and PIN</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="123" />
      <source>カードをお取りください</source>
      <translation>Please take the card</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="42" />
      <source>カードをかざすとポイントを付与します（暗証番号は不要です）</source>
      <translation>Place a card to grant points (no PIN needed)</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="94" />
      <source>カードをリーダーに置いてください</source>
      <translation>Please place the card on the reader</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="70" />
      <source>カードを取る</source>
      <translation>Remove card</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="233" />
      <source>カードを置くと、最初からやり直します。</source>
      <translation>Placing a card starts again from the beginning.</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="47" />
      <source>カードを読み取っています。カードを動かさずにお待ちください。</source>
      <translation>Reading the card. Please keep it still.</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="154" />
      <source>カードリーダー</source>
      <translation>Card reader</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="285" />
      <source>カードリーダーが見つかりません。リーダーを接続してください。</source>
      <translation>No card reader found. Please connect a reader.</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="61" />
      <source>カード（暗証番号 1234）</source>
      <translation>Card (PIN 1234)</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="53" />
      <source>クリックすると同期画面を開きます</source>
      <translation>Click to open Sync</translation>
    </message>
    <message>
      <location filename="ui/screens/library.py" line="141" />
      <source>クリップボードにコピーしました（貸出画面に貼り付けできます）</source>
      <translation>Copied to the clipboard (paste it into the lending screen)</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="122" />
      <source>サーバー</source>
      <translation>Server</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="236" />
      <source>サーバーと登録コードを入力してください。</source>
      <translation>Enter the server and the enrollment code.</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="50" />
      <source>サーバーに問い合わせています。</source>
      <translation>Asking the server.</translation>
    </message>
    <message>
      <location filename="ui/screens/registry.py" line="92" />
      <source>サービスID登録</source>
      <translation>Service ID</translation>
    </message>
    <message>
      <location filename="ui/screens/service_id.py" line="31" />
      <source>サービスID登録: お客様のカードをリーダーに置いてください</source>
      <translation>Service ID: please place the customer's card on the reader</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="145" />
      <source>システムの既定のプリンター</source>
      <translation>The system's default printer</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="259" />
      <source>スキャナー</source>
      <translation>Scanner</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="124" />
      <source>テスト印刷</source>
      <translation>Test print</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="51" />
      <source>デモ</source>
      <translation>Demo</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="151" />
      <source>ハイコントラスト（黒地に白い文字）</source>
      <translation>High contrast (white on black)</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="102" />
      <source>フォルダ…</source>
      <translation>Folder…</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="130" />
      <source>プリンター</source>
      <translation>Printer</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="104" />
      <source>プレビュー</source>
      <translation>Preview</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="178" />
      <source>プレビューを止める</source>
      <translation>Stop preview</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="377" />
      <source>プレビューを開きました。印刷ボタンで印刷できます。</source>
      <translation>The preview is open. Print from its print button.</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="113" />
      <source>ポイント</source>
      <translation>Points</translation>
    </message>
    <message>
      <location filename="ui/screens/outcome_text.py" line="35" />
      <source>ポイントは動いていません。</source>
      <translation>No points moved.</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="287" />
      <source>ポイントを使いました</source>
      <translation>Points used</translation>
    </message>
    <message>
      <location filename="ui/screens/registry.py" line="78" />
      <source>ポイント付与</source>
      <translation>Grant points</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="48" />
      <source>ポイント券 {n} が二重に使われました
1回目 {b1}（{t1}）
2回目 {b2}（{t2}）</source>
      <translation>Voucher {n} was used twice
First {b1} ({t1})
Second {b2} ({t2})</translation>
    </message>
    <message>
      <source>ポイント券 {n} が二重に使われました: 1回目 {b1}（{t1}）、2回目 {b2}（{t2}）</source>
      <translation type="obsolete">Voucher {n} was redeemed twice: first {b1} ({t1}), second {b2} ({t2})</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="452" />
      <source>ポイント券ではありません</source>
      <translation>Not a point voucher</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="235" />
      <source>ポイント券のQRコードをカメラの枠の中にかざしてください</source>
      <translation>Hold the voucher's QR code inside the camera frame</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="248" />
      <source>ポイント券をお待ちしています</source>
      <translation>Waiting for a voucher</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="402" />
      <source>ポイント券を発行しました</source>
      <translation>Vouchers issued</translation>
    </message>
    <message>
      <location filename="ui/screens/labels.py" line="16" />
      <source>ポイント券受付</source>
      <translation>Voucher redemption</translation>
    </message>
    <message>
      <location filename="ui/screens/labels.py" line="15" />
      <source>ポイント券発行</source>
      <translation>Issue vouchers</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="99" />
      <source>ポイント券発行: お客様のマイナンバーカードで発行します</source>
      <translation>Issue vouchers: with the customer's My Number Card</translation>
    </message>
    <message>
      <location filename="ui/screens/registry.py" line="64" />
      <source>ポイント券読取</source>
      <translation>Scan vouchers</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="250" />
      <source>ポイント数を入力してください（1以上の整数）。</source>
      <translation>Enter the points (a whole number from 1).</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="113" />
      <source>マイキーID</source>
      <translation>MyKey ID</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="259" />
      <source>マイキーID: {m}</source>
      <translation>MyKey ID: {m}</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="210" />
      <source>マイキーID: {m}    会員番号: {c}</source>
      <translation>MyKey ID: {m}    Member number: {c}</translation>
    </message>
    <message>
      <location filename="ui/screens/service_id.py" line="79" />
      <source>マイキーID: {m}　現在の会員番号: {c}</source>
      <translation>MyKey ID: {m}   Current member number: {c}</translation>
    </message>
    <message>
      <location filename="ui/screens/mykey_setup.py" line="50" />
      <source>マイキーIDを決めてください</source>
      <translation>Choose a MyKey ID</translation>
    </message>
    <message>
      <location filename="ui/screens/mykey_setup.py" line="31" />
      <source>マイキーIDを決める</source>
      <translation>Choose the MyKey ID</translation>
    </message>
    <message>
      <location filename="ui/screens/mykey_setup.py" line="139" />
      <source>マイキーIDを設定しました</source>
      <translation>MyKey ID set up</translation>
    </message>
    <message>
      <location filename="ui/screens/labels.py" line="18" />
      <source>マイキーID設定</source>
      <translation>MyKey ID set-up</translation>
    </message>
    <message>
      <location filename="ui/screens/mykey_setup.py" line="32" />
      <source>マイキーID設定: お客様のカードをリーダーに置いてください</source>
      <translation>MyKey ID set-up: please place the customer's card on the reader</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="90" />
      <source>リーダー: エラー</source>
      <translation>Reader: error</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="94" />
      <source>リーダー: カードあり</source>
      <translation>Reader: card present</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="96" />
      <source>リーダー: 接続済み</source>
      <translation>Reader: connected</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="92" />
      <source>リーダー: 未接続</source>
      <translation>Reader: not connected</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="98" />
      <source>リーダー上: {c}</source>
      <translation>On the reader: {c}</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="98" />
      <source>リーダー上: なし</source>
      <translation>On the reader: none</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="42" />
      <source>レシート 58 mm</source>
      <translation>Receipt 58 mm</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="43" />
      <source>レシート 80 mm</source>
      <translation>Receipt 80 mm</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="379" />
      <source>レシートプリンター（{name}）が見つかりません。</source>
      <translation>The receipt printer ({name}) was not found.</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="331" />
      <source>レシート用紙（58/80 mm）のプリンターが選ばれていません（設定で選べます）。プレビューから印刷できます。</source>
      <translation>No receipt (58/80 mm) printer is chosen (choose one in Settings). You can print from the preview.</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="362" />
      <source>一度に発行できるのは1〜{n}枚です。</source>
      <translation>Issue 1 to {n} vouchers at a time.</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="141" />
      <source>不可</source>
      <translation>refused</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="109" />
      <source>中止 (Esc)</source>
      <translation>Cancel (Esc)</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="109" />
      <source>事業者</source>
      <translation>Business</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="102" />
      <source>今すぐ同期 (Enter)</source>
      <translation>Sync now (Enter)</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="407" />
      <source>今回の発行</source>
      <translation>this issue</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="90" />
      <source>今日</source>
      <translation>Today</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="90" />
      <source>今月</source>
      <translation>This month</translation>
    </message>
    <message>
      <location filename="ui/screens/chart.py" line="69" />
      <source>付与</source>
      <translation>Grant</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="60" />
      <source>付与ポイント</source>
      <translation>Points to grant</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="52" />
      <source>付与事業</source>
      <translation>Grant program</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="57" />
      <source>付与事業がありません。同期（F9）してください。</source>
      <translation>No grant programs. Please sync (F9).</translation>
    </message>
    <message>
      <location filename="ui/screens/service_id.py" line="30" />
      <source>会員番号を入力</source>
      <translation>Enter the member number</translation>
    </message>
    <message>
      <location filename="ui/screens/service_id.py" line="52" />
      <source>会員番号を入力してください</source>
      <translation>Please enter the member number</translation>
    </message>
    <message>
      <location filename="ui/screens/service_id.py" line="101" />
      <source>会員番号を入力してください。</source>
      <translation>Please enter the member number.</translation>
    </message>
    <message>
      <location filename="ui/screens/service_id.py" line="91" />
      <source>会員番号を登録しました</source>
      <translation>Member number linked</translation>
    </message>
    <message>
      <location filename="ui/screens/labels.py" line="17" />
      <source>会員番号登録</source>
      <translation>Member number link</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="109" />
      <source>使うポイント</source>
      <translation>Points to use</translation>
    </message>
    <message>
      <location filename="ui/camera_view.py" line="192" />
      <source>使えません</source>
      <translation>Not available</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="451" />
      <source>使えません: 使用済みの券</source>
      <translation>Refused: already used</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="453" />
      <source>使えません: 偽造・不正の疑い</source>
      <translation>Refused: possibly forged</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="454" />
      <source>使えません: 有効期間外</source>
      <translation>Refused: outside its validity</translation>
    </message>
    <message>
      <location filename="ui/screens/mykey_setup.py" line="60" />
      <source>使えるか確認する (Enter)</source>
      <translation>Check availability (Enter)</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="155" />
      <source>例: 500, 500, 1000</source>
      <translation>e.g. 500, 500, 1000</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="121" />
      <source>例: レジ1</source>
      <translation>e.g. Register 1</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="165" />
      <source>保存して反映</source>
      <translation>Save and apply</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="191" />
      <source>保存しました: {p}</source>
      <translation>Saved: {p}</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="227" />
      <source>保存しました。</source>
      <translation>Saved.</translation>
    </message>
    <message>
      <location filename="ui/camera_view.py" line="158" />
      <source>停止中</source>
      <translation>Stopped</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="99" />
      <source>偽造・不正</source>
      <translation>Forged / invalid</translation>
    </message>
    <message>
      <location filename="ui/widgets.py" line="112" />
      <source>入力し直す (Esc)</source>
      <translation>Enter again (Esc)</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="116" />
      <source>全額</source>
      <translation>All</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="205" />
      <source>内容</source>
      <translation>Vouchers</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="526" />
      <source>再発行する発行を一覧から選んでください。</source>
      <translation>Choose the issue to reprint in the list.</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="542" />
      <source>再発行の券を用意しました。印刷プレビューから印刷してください。</source>
      <translation>The reissued vouchers are ready. Print them from the print preview.</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="52" />
      <source>処理しています。そのままお待ちください。</source>
      <translation>Working. Please wait.</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="66" />
      <source>出席受付（1人1回）</source>
      <translation>Attendance (once per person)</translation>
    </message>
    <message>
      <location filename="ui/screens/chart.py" line="69" />
      <source>利用</source>
      <translation>Use</translation>
    </message>
    <message>
      <location filename="ui/screens/library.py" line="62" />
      <source>利用者番号</source>
      <translation>Patron number</translation>
    </message>
    <message>
      <location filename="ui/screens/library.py" line="53" />
      <source>利用者番号を入力して「登録する」を押してください。お客様の暗証番号が必要です。</source>
      <translation>Enter the patron number and press "Register". The customer's PIN is needed.</translation>
    </message>
    <message>
      <location filename="ui/screens/library.py" line="152" />
      <source>利用者番号を入力してください。</source>
      <translation>Please enter the patron number.</translation>
    </message>
    <message>
      <location filename="ui/screens/library.py" line="103" />
      <source>利用者番号を登録しました</source>
      <translation>Patron number linked</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="323" />
      <source>券ごとのポイントは数字をカンマで区切って入力してください。</source>
      <translation>Type the points of each voucher as numbers separated by commas.</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="100" />
      <source>券ではない</source>
      <translation>Not a voucher</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="214" />
      <source>券に「再発行」と印字されます</source>
      <translation>The vouchers are printed marked 再発行 (reissue)</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="461" />
      <source>券に利用店舗印を押して、お預かりください。</source>
      <translation>Stamp the voucher's shop box and keep the voucher.</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="269" />
      <source>券番号</source>
      <translation>Voucher no.</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="459" />
      <source>券番号 {n}</source>
      <translation>Voucher no. {n}</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="267" />
      <source>券番号での消込はサーバーに接続しているときだけできます</source>
      <translation>Redeeming by number needs the server connection</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="142" />
      <source>前回の同期エラー（{t}）: {e}</source>
      <translation>Last sync error ({t}): {e}</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="108" />
      <source>動かすと未送信の取引を同期できます</source>
      <translation>Start it to sync the unsent transactions</translation>
    </message>
    <message>
      <location filename="ui/camera_view.py" line="276" />
      <source>動画ファイル</source>
      <translation>Video file</translation>
    </message>
    <message>
      <location filename="ui/screens/mykey_setup.py" line="51" />
      <source>半角の英字と数字で4〜16文字（例: MY123456）</source>
      <translation>4 to 16 letters or digits (e.g. MY123456)</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="188" />
      <source>印刷…</source>
      <translation>Print…</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="471" />
      <source>印刷しました（{n}枚）。</source>
      <translation>Printed ({n} vouchers).</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="182" />
      <source>印刷するポイント券はまだありません</source>
      <translation>No vouchers to print yet</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="425" />
      <source>印刷する券: {note}
{n}枚 合計 {t:,} ポイント</source>
      <translation>To print: {note}
{n} vouchers, {t:,} points in total</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="186" />
      <source>印刷プレビュー</source>
      <translation>Print preview</translation>
    </message>
    <message>
      <location filename="ui/screens/labels.py" line="41" />
      <source>却下</source>
      <translation>Refused</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="119" />
      <source>却下・競合の取引は、理由を確認して商店街事務局にご相談ください。</source>
      <translation>For refused or conflicting transactions, check the reason and contact the street office.</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="148" />
      <source>取引 {n}件　利用 {u:,} pt　付与 {g:,} pt　券発行 {v:,} pt　券受付 {r}枚
未送信 {s}件　オフライン受付 {o}件　却下 {x}件</source>
      <translation>{n} transactions   used {u:,} pt   granted {g:,} pt   vouchers issued {v:,} pt   vouchers redeemed {r}
unsent {s}   accepted offline {o}   refused {x}</translation>
    </message>
    <message>
      <location filename="ui/screens/outcome_text.py" line="34" />
      <source>受け付けられませんでした</source>
      <translation>Not accepted</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="157" />
      <source>受付 {n}件　合計 {p:,} ポイント</source>
      <translation>{n} taps   total {p:,} points</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="489" />
      <source>受付 {n}枚  合計 {p:,} ポイント／受付不可 {f}件</source>
      <translation>Accepted {n}, {p:,} points in total / refused {f}</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="102" />
      <source>受付不可</source>
      <translation>Refused</translation>
    </message>
    <message>
      <location filename="ui/screens/grant.py" line="141" />
      <source>受付（同期待ち）</source>
      <translation>accepted (waiting for sync)</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="110" />
      <source>台帳を動かす</source>
      <translation>Start the ledger</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="110" />
      <source>台帳を止める</source>
      <translation>Stop the ledger</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="79" />
      <source>台帳サーバー（ローカル）</source>
      <translation>Ledger server (local)</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="408" />
      <source>右の「印刷プレビュー」から印刷してください。</source>
      <translation>Print them with "Print preview" on the right.</translation>
    </message>
    <message>
      <location filename="ui/screens/registry.py" line="97" />
      <source>同期</source>
      <translation>Sync</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="195" />
      <source>同期しています…</source>
      <translation>Syncing…</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="206" />
      <source>同期しました: 送信 {p}件（反映 {a}件、却下 {r}件、競合 {c}件）</source>
      <translation>Synced: {p} sent ({a} applied, {r} refused, {c} conflicts)</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="223" />
      <source>同期できませんでした。通信が戻ると自動で再送します。</source>
      <translation>Sync failed. It is retried automatically when the network is back.</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="82" />
      <source>同期なし</source>
      <translation>Without sync</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="81" />
      <source>同期までの合計</source>
      <translation>Total until sync</translation>
    </message>
    <message>
      <location filename="ui/screens/labels.py" line="39" />
      <source>同期済み</source>
      <translation>Synced</translation>
    </message>
    <message>
      <location filename="ui/screens/labels.py" line="40" />
      <source>同期済み（オフライン受付）</source>
      <translation>Synced (accepted offline)</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="31" />
      <source>商店街事務局</source>
      <translation>Street office</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="32" />
      <source>図書館</source>
      <translation>Library</translation>
    </message>
    <message>
      <location filename="ui/screens/library.py" line="33" />
      <source>図書館: カードで利用者番号を表示します</source>
      <translation>Library: shows the patron number of the card</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="149" />
      <source>大</source>
      <translation>Large</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="23" />
      <source>失効したカード</source>
      <translation>Revoked card</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="83" />
      <source>失効情報の古さ</source>
      <translation>Revocation data age</translation>
    </message>
    <message>
      <location filename="ui/screens/registry.py" line="96" />
      <source>履歴・精算</source>
      <translation>History</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="33" />
      <source>市役所の窓口</source>
      <translation>City hall desk</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="37" />
      <source>当店 {name}</source>
      <translation>This shop {name}</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="111" />
      <source>役割</source>
      <translation>Roles</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="152" />
      <source>成功・失敗の音を鳴らす</source>
      <translation>Success and failure sounds</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="218" />
      <source>戻って入力し直す (Enter)</source>
      <translation>Back and change it (Enter)</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="149" />
      <source>戻る (Esc)</source>
      <translation>Back (Esc)</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="156" />
      <source>文字の大きさ</source>
      <translation>Text size</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="290" />
      <source>新しい残高: {b:,} ポイント</source>
      <translation>New balance: {b:,} points</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="380" />
      <source>既定のプリンター</source>
      <translation>Default printer</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="205" />
      <source>日時</source>
      <translation>Time</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="113" />
      <source>時刻</source>
      <translation>Time</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="22" />
      <source>暗証番号あと1回のカード</source>
      <translation>Card with one PIN try left</translation>
    </message>
    <message>
      <location filename="ui/widgets.py" line="136" />
      <source>暗証番号が違います。もう一度入力してください。</source>
      <translation>Wrong PIN. Please enter it again.</translation>
    </message>
    <message>
      <location filename="ui/widgets.py" line="93" />
      <source>暗証番号（数字4桁）を入力してください</source>
      <translation>Please enter your PIN (4 digits)</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="87" />
      <source>最終同期 {t}</source>
      <translation>Last sync {t}</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="216" />
      <source>最近の発行</source>
      <translation>Recent issues</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="315" />
      <source>有効期間: {a} 〜 {b}（{n}日間・プログラムの設定）</source>
      <translation>Valid {a} to {b} ({n} days, the program's setting)</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="101" />
      <source>期限外</source>
      <translation>Outside validity</translation>
    </message>
    <message>
      <location filename="ui/camera_view.py" line="110" />
      <source>未使用</source>
      <translation>not used</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="208" />
      <source>未登録</source>
      <translation>none</translation>
    </message>
    <message>
      <source>未登録の端末</source>
      <translation type="obsolete">Terminal not enrolled</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="97" />
      <source>未確定（券を保管）</source>
      <translation>Undecided (keep the voucher)</translation>
    </message>
    <message>
      <location filename="ui/screens/labels.py" line="34" />
      <source>未確定（同期待ち）</source>
      <translation>Undecided (waiting for sync)</translation>
    </message>
    <message>
      <location filename="ui/screens/labels.py" line="37" />
      <source>未送信</source>
      <translation>Not sent</translation>
    </message>
    <message>
      <location filename="ui/status_bar.py" line="85" />
      <source>未送信 {n}件</source>
      <translation>{n} unsent</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="137" />
      <source>未送信 {n}件　最終同期 {t}</source>
      <translation>{n} unsent   last sync {t}</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="142" />
      <source>枚数</source>
      <translation>Count</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="149" />
      <source>標準</source>
      <translation>Normal</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="200" />
      <source>標準（未同期）</source>
      <translation>Default (not synced)</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="106" />
      <source>止めると端末はオフラインで受け付けます</source>
      <translation>Stop it and the terminals work offline</translation>
    </message>
    <message>
      <location filename="ui/widgets.py" line="105" />
      <source>残り1回です。間違えるとロックされます。</source>
      <translation>One try left. A mistake locks the PIN.</translation>
    </message>
    <message>
      <location filename="ui/widgets.py" line="138" />
      <source>残り回数: {n}回</source>
      <translation>Tries left: {n}</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="410" />
      <source>残高: {b:,} ポイント</source>
      <translation>Balance: {b:,} points</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="255" />
      <source>残高が足りません（残高 {b:,} ポイント）。</source>
      <translation>Not enough points (balance {b:,}).</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="292" />
      <source>残高（見込み）: {b:,} ポイント</source>
      <translation>Balance (expected): {b:,} points</translation>
    </message>
    <message>
      <location filename="ui/widgets.py" line="97" />
      <source>決定 (Enter)</source>
      <translation>OK (Enter)</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="95" />
      <source>消込済</source>
      <translation>Redeemed</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="149" />
      <source>特大</source>
      <translation>Extra large</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="113" />
      <source>状態</source>
      <translation>State</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="122" />
      <source>理由</source>
      <translation>Reason</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="193" />
      <source>用紙</source>
      <translation>Paper</translation>
    </message>
    <message>
      <location filename="ui/camera_view.py" line="276" />
      <source>画像フォルダ</source>
      <translation>Image folder</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_devices.py" line="198" />
      <source>画像フォルダを選ぶ</source>
      <translation>Choose an image folder</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="266" />
      <source>番号で消込</source>
      <translation>Redeem by number</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="506" />
      <source>発行されていません</source>
      <translation>Not issued</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="166" />
      <source>発行する (Enter)</source>
      <translation>Issue (Enter)</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="505" />
      <source>発行済み</source>
      <translation>Issued</translation>
    </message>
    <message>
      <location filename="ui/main_window.py" line="254" />
      <source>登録が完了しました。左のメニューから使い始められます。</source>
      <translation>Enrollment is complete. Start from the menu on the left.</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="240" />
      <source>登録しています…</source>
      <translation>Enrolling…</translation>
    </message>
    <message>
      <location filename="ui/screens/library.py" line="69" />
      <source>登録しない (Esc)</source>
      <translation>Do not register (Esc)</translation>
    </message>
    <message>
      <location filename="ui/main_window.py" line="216" />
      <source>登録しました。アプリを起動し直すと使えます。</source>
      <translation>Enrolled. Restart the application to use it.</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="245" />
      <source>登録しました。端末を準備しています…</source>
      <translation>Enrolled. Preparing the terminal…</translation>
    </message>
    <message>
      <location filename="ui/main_window.py" line="231" />
      <source>登録しましたが、端末を開けませんでした: {e}</source>
      <translation>Enrolled, but the terminal could not be opened: {e}</translation>
    </message>
    <message>
      <location filename="ui/screens/library.py" line="67" />
      <source>登録する (Enter)</source>
      <translation>Register (Enter)</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="123" />
      <source>登録コード</source>
      <translation>Enrollment code</translation>
    </message>
    <message>
      <location filename="ui/screens/service_id.py" line="30" />
      <source>登録完了</source>
      <translation>Done</translation>
    </message>
    <message>
      <location filename="ui/widgets.py" line="110" />
      <source>確定する (Enter)</source>
      <translation>Send it (Enter)</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="214" />
      <source>確認が必要な取引があります（下の一覧）。</source>
      <translation>Some transactions need checking (list below).</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="117" />
      <source>確認が必要な取引（却下・競合）</source>
      <translation>Transactions to look at (refused, conflicts)</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="340" />
      <source>確認しています…</source>
      <translation>Checking…</translation>
    </message>
    <message>
      <location filename="ui/card_flow.py" line="48" />
      <source>確認しています。そのままお待ちください。</source>
      <translation>Checking. Please wait.</translation>
    </message>
    <message>
      <location filename="ui/screens/mykey_setup.py" line="31" />
      <source>確認して登録</source>
      <translation>Confirm and register</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="123" />
      <source>確認へ (Enter)</source>
      <translation>Confirm (Enter)</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="113" />
      <source>種類</source>
      <translation>Kind</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="104" />
      <source>稼働中</source>
      <translation>Running</translation>
    </message>
    <message>
      <location filename="ui/demo_tray.py" line="52" />
      <source>端末</source>
      <translation>Terminal</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="107" />
      <source>端末ID</source>
      <translation>Terminal ID</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="124" />
      <source>端末の名前</source>
      <translation>Terminal name</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="68" />
      <source>端末の登録</source>
      <translation>Enrollment</translation>
    </message>
    <message>
      <location filename="ui/screens/labels.py" line="42" />
      <source>競合</source>
      <translation>Conflict</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="103" />
      <source>精算書をPDFで保存</source>
      <translation>Save the settlement as PDF</translation>
    </message>
    <message>
      <location filename="ui/screens/history.py" line="219" />
      <source>精算書を保存しました: {p}</source>
      <translation>Settlement saved: {p}</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="286" />
      <source>結果</source>
      <translation>Result</translation>
    </message>
    <message>
      <location filename="ui/screens/outcome_text.py" line="29" />
      <source>結果はまだ確定していません</source>
      <translation>The result is not settled yet</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="450" />
      <source>結果は未確定です。券をお預かりください</source>
      <translation>The result is not settled yet. Keep the voucher</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="179" />
      <source>自動（カードが置かれたリーダー）</source>
      <translation>Automatic (the reader with a card)</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="43" />
      <source>自治体の窓口</source>
      <translation>Municipal desk</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="70" />
      <source>表示と操作</source>
      <translation>Display and operation</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="155" />
      <source>言語（再起動後に反映）</source>
      <translation>Language (after restart)</translation>
    </message>
    <message>
      <location filename="ui/widgets.py" line="67" />
      <source>訂正</source>
      <translation>Delete</translation>
    </message>
    <message>
      <location filename="ui/screens/registry.py" line="101" />
      <source>設定</source>
      <translation>Settings</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="304" />
      <source>読み取り元: {s}</source>
      <translation>Source: {s}</translation>
    </message>
    <message>
      <location filename="ui/camera_view.py" line="212" />
      <source>読み終わりました</source>
      <translation>Finished reading</translation>
    </message>
    <message>
      <location filename="ui/camera_view.py" line="227" />
      <source>読取中</source>
      <translation>Scanning</translation>
    </message>
    <message>
      <location filename="ui/camera_view.py" line="143" />
      <source>起動中</source>
      <translation>Starting</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="115" />
      <source>送信回数</source>
      <translation>Attempts</translation>
    </message>
    <message>
      <location filename="ui/screens/sync_screen.py" line="114" />
      <source>送信待ち</source>
      <translation>Waiting to be sent</translation>
    </message>
    <message>
      <location filename="ui/screens/settings.py" line="119" />
      <source>運営者から受け取った登録コード</source>
      <translation>The enrollment code from the operator</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_issue.py" line="213" />
      <source>選んだ発行を再発行</source>
      <translation>Reprint the chosen issue</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="98" />
      <source>重複・使用済</source>
      <translation>Duplicate / used</translation>
    </message>
    <message>
      <location filename="ui/screens/voucher_scan.py" line="278" />
      <source>集計をリセット</source>
      <translation>Reset the count</translation>
    </message>
    <message>
      <location filename="ui/screens/checkout.py" line="50" />
      <source>（最も近い有効期限 {d}）</source>
      <translation> (nearest expiry {d})</translation>
    </message>
  </context>
</TS>
