//! Message bundles (English and Spanish) and the utility's overrides.
//!
//! Every string the widget shows comes from this table, by a stable key
//! such as `sign_in.title`. A utility can replace any of them (see the
//! README, "Translations and wording"): the `messages` option is a JSON
//! object of `key: text`, either flat (for the active language) or per
//! language (`{"en": {...}, "es": {...}}`); `messages-url` loads the same
//! shape from a URL. Placeholders in braces (`{client}`, `{n}`, `{time}`,
//! `{to}`, `{date}`, `{name}`, `{list}`) are filled in by the widget.
//!
//! Text that depends on the scope (what each function block means,
//! durations, dates) comes from the scope library's `describe` and
//! `catalog` modules in the same language.

pub use espi_scope::describe::Lang;

// One row per message in the source (key, English, Spanish) so a new
// message is never added to one language only; the macro turns the rows
// into the typed ids and one table per language.
macro_rules! messages {
    ($($id:ident $key:literal $en:literal $es:literal;)*) => {
        /// A message id. `M::X as usize` is its index in [`KEYS`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum M { $($id,)* }
        /// The stable keys a utility uses to override a message, in id order.
        pub const KEYS: &[&str] = &[$($key,)*];
        /// The English bundle, in id order.
        pub const EN: &[&str] = &[$($en,)*];
        /// The Spanish bundle, in id order.
        pub const ES: &[&str] = &[$($es,)*];
    };
}

messages! {
    Loading "loading" "Loading…" "Cargando…";
    SiteName "site_name" "Share your energy data" "Compartir sus datos de energía";
    ErrorPrefix "error_prefix" "Error: " "Error: ";
    ErrorSummaryTitle "error_summary.title" "There is a problem" "Hay un problema";
    ErrorInline "error_inline" "Error:" "Error:";
    NewTab "new_tab" "(opens in a new tab)" "(se abre en una pestaña nueva)";
    Retry "retry" "Retry" "Reintentar";

    FailUnknownTitle "fail.unknown.title" "We can't find this request" "No encontramos esta solicitud";
    FailUnknownBody "fail.unknown.body"
        "The link may be wrong, or it was already used. Go back to the app or website that sent you here and start again. Nothing has been shared."
        "Es posible que el enlace sea incorrecto o que ya se haya usado. Vuelva a la aplicación o al sitio web que le envió aquí y empiece de nuevo. No se ha compartido nada.";
    FailExpiredTitle "fail.expired.title" "This request has expired" "Esta solicitud ha vencido";
    FailExpiredBody "fail.expired.body"
        "For your security, a request to share data only lasts a short time. Go back to the app or website that sent you here and start again. Nothing has been shared."
        "Por su seguridad, una solicitud para compartir datos dura poco tiempo. Vuelva a la aplicación o al sitio web que le envió aquí y empiece de nuevo. No se ha compartido nada.";
    FailDecidedTitle "fail.decided.title" "This request has already been answered" "Esta solicitud ya fue respondida";
    FailDecidedBody "fail.decided.body"
        "It was already authorized or declined, so there is nothing more to do here. To change what you share, go to your account with your utility."
        "Ya se autorizó o se rechazó, así que no hay nada más que hacer aquí. Para cambiar lo que comparte, vaya a su cuenta con su compañía de servicios.";
    FailNotYoursTitle "fail.not_yours.title" "This request was opened somewhere else" "Esta solicitud se abrió en otro lugar";
    FailNotYoursBody "fail.not_yours.body"
        "For your security, a request can only be used in the browser where it was first opened. Go back to the app or website that sent you here and start again."
        "Por su seguridad, una solicitud solo se puede usar en el navegador donde se abrió por primera vez. Vuelva a la aplicación o al sitio web que le envió aquí y empiece de nuevo.";
    FailUnreachableTitle "fail.unreachable.title" "We can't connect right now" "No podemos conectarnos en este momento";
    FailUnreachableBody "fail.unreachable.body"
        "Check your internet connection, then select Retry. Nothing has been shared."
        "Revise su conexión a internet y luego seleccione Reintentar. No se ha compartido nada.";
    FailServerTitle "fail.server.title" "Something went wrong" "Algo salió mal";
    FailServerBody "fail.server.body"
        "This is a problem on our side. Select Retry, or try again in a few minutes. Nothing has been shared."
        "Es un problema de nuestro lado. Seleccione Reintentar o inténtelo de nuevo en unos minutos. No se ha compartido nada.";
    FailBusyTitle "fail.busy.title" "We're busy right now" "Estamos muy ocupados en este momento";
    FailBusyBody "fail.busy.body"
        "Too many requests are reaching us. Wait a minute, then select Retry. Nothing has been shared."
        "Nos llegan demasiadas solicitudes. Espere un minuto y luego seleccione Reintentar. No se ha compartido nada.";
    FailExhaustedTitle "fail.exhausted.title" "Too many tries for this request" "Demasiados intentos para esta solicitud";
    FailExhaustedBody "fail.exhausted.body"
        "For your security, this request can't be used any more. Go back to the app or website that sent you here and start again. Nothing has been shared."
        "Por su seguridad, esta solicitud ya no se puede usar. Vuelva a la aplicación o al sitio web que le envió aquí y empiece de nuevo. No se ha compartido nada.";
    FailSessionTitle "fail.session.title" "Your session has changed" "Su sesión cambió";
    FailSessionBody "fail.session.body"
        "For your security, select Retry to load this request again. Nothing has been shared."
        "Por su seguridad, seleccione Reintentar para cargar esta solicitud de nuevo. No se ha compartido nada.";

    SignInTitle "sign_in.title" "Sign in to share your energy data" "Inicie sesión para compartir sus datos de energía";
    SignInIntro "sign_in.intro"
        "{client} is asking to see some of your energy data. Sign in so we know it's you. Nothing is shared until you choose Authorize on the next page."
        "{client} pide ver algunos de sus datos de energía. Inicie sesión para que sepamos que es usted. No se comparte nada hasta que elija Autorizar en la página siguiente.";
    MethodLegend "sign_in.method_legend" "How do you want to sign in?" "¿Cómo quiere iniciar sesión?";
    MethodPassword "method.password" "With your username and password" "Con su nombre de usuario y contraseña";
    MethodAccount "method.account_otp" "With your account number and ZIP code, then a code" "Con su número de cuenta y código postal (ZIP), y luego un código";
    MethodPhone "method.phone_otp" "With a code sent to your mobile phone" "Con un código enviado a su teléfono móvil";
    MethodEmail "method.email_otp" "With a code sent to your email" "Con un código enviado a su correo electrónico";
    FieldUsername "field.username" "Username" "Nombre de usuario";
    FieldPassword "field.password" "Password" "Contraseña";
    FieldAccount "field.account_number" "Account number" "Número de cuenta";
    HintAccount "hint.account_number" "It is on your bill." "Aparece en su factura.";
    FieldZip "field.zip" "ZIP code" "Código postal (ZIP)";
    HintZip "hint.zip" "The ZIP code of the service address." "El código postal de la dirección del servicio.";
    FieldPhone "field.phone" "Mobile phone number" "Número de teléfono móvil";
    FieldEmail "field.email" "Email address" "Correo electrónico";
    ChannelLegend "channel.legend" "Where should we send the code?" "¿A dónde enviamos el código?";
    ChannelSms "channel.sms" "By text message to the phone on your account" "Por mensaje de texto al teléfono de su cuenta";
    ChannelEmail "channel.email" "By email to the address on your account" "Por correo electrónico a la dirección de su cuenta";
    SignInSubmit "sign_in.submit" "Sign in" "Iniciar sesión";
    SsoSignIn "sign_in.sso" "Sign in with {name}" "Iniciar sesión con {name}";
    ErrSsoCancelled "err.sso_cancelled" "Signing in with your utility account was cancelled. Try again, or choose another way." "Se canceló el inicio de sesión con su cuenta de la empresa de servicios. Inténtelo de nuevo o elija otra forma.";
    ErrSsoUnknownAccount "err.sso_unknown_account" "We could not find an energy account for the account you signed in with. Choose another way to sign in." "No encontramos una cuenta de energía para la cuenta con la que inició sesión. Elija otra forma de iniciar sesión.";
    ErrSsoFailed "err.sso_failed" "Signing in with your utility account did not work. Try again, or choose another way." "El inicio de sesión con su cuenta de la empresa de servicios no funcionó. Inténtelo de nuevo o elija otra forma.";
    SendCode "sign_in.send_code" "Send code" "Enviar código";
    CancelToClient "sign_in.cancel" "Cancel and go back to {client}" "Cancelar y volver a {client}";
    Working "working" "Please wait…" "Espere, por favor…";

    ErrUsernameEmpty "err.username_empty" "Enter your username" "Escriba su nombre de usuario";
    ErrPasswordEmpty "err.password_empty" "Enter your password" "Escriba su contraseña";
    ErrAccountEmpty "err.account_empty" "Enter your account number" "Escriba su número de cuenta";
    ErrZipEmpty "err.zip_empty" "Enter your ZIP code" "Escriba su código postal (ZIP)";
    ErrPhoneEmpty "err.phone_empty" "Enter your mobile phone number" "Escriba su número de teléfono móvil";
    ErrEmailEmpty "err.email_empty" "Enter your email address" "Escriba su correo electrónico";
    ErrEmailInvalid "err.email_invalid" "Enter an email address like name@example.com" "Escriba un correo electrónico como nombre@ejemplo.com";
    ErrInvalidCredentials "err.invalid_credentials" "The username or password is not right" "El nombre de usuario o la contraseña no son correctos";
    ErrIdentityNotFound "err.identity_not_found" "We could not find an account with these details. Check them and try again." "No encontramos una cuenta con estos datos. Revíselos e inténtelo de nuevo.";
    ErrChannelUnavailable "err.channel_unavailable" "Your account has no phone number or email address for this. Choose another way." "Su cuenta no tiene un teléfono o correo electrónico para esto. Elija otra forma.";
    ErrTooManyAttempts "err.too_many_attempts" "Too many tries. Wait {time}, then try again." "Demasiados intentos. Espere {time} y vuelva a intentarlo.";
    ErrBusy "err.busy" "We're busy right now. Wait {time}, then try again." "Estamos muy ocupados en este momento. Espere {time} y vuelva a intentarlo.";
    ErrNetwork "err.network" "We could not connect. Check your internet connection and try again." "No pudimos conectarnos. Revise su conexión a internet e inténtelo de nuevo.";
    ErrUnexpected "err.unexpected" "Something went wrong on our side. Please try again." "Algo salió mal de nuestro lado. Inténtelo de nuevo.";

    CodeTitleSms "code.title_sms" "Check your phone" "Revise su teléfono";
    CodeTitleEmail "code.title_email" "Check your email" "Revise su correo electrónico";
    CodeSentTo "code.sent_to" "We sent a 6-digit code to {to}. It expires in {time}." "Enviamos un código de 6 dígitos a {to}. Vence en {time}.";
    CodeSentOnFileSms "code.sent_on_file_sms" "If these details match an account, we sent a 6-digit code to the mobile phone on file. It expires in {time}." "Si estos datos coinciden con una cuenta, enviamos un código de 6 dígitos al teléfono móvil registrado. Vence en {time}.";
    CodeSentOnFileEmail "code.sent_on_file_email" "If these details match an account, we sent a 6-digit code to the email address on file. It expires in {time}." "Si estos datos coinciden con una cuenta, enviamos un código de 6 dígitos al correo electrónico registrado. Vence en {time}.";
    CodeEmailNote "code.email_note"
        "A code sent by email only shows that you can open that mailbox."
        "Un código enviado por correo electrónico solo demuestra que usted puede abrir ese buzón.";
    FieldCode "field.code" "Enter the 6-digit code" "Escriba el código de 6 dígitos";
    HintCode "hint.code" "You can paste it. Spaces and dashes are fine." "Puede pegarlo. Los espacios y guiones no importan.";
    CodeSubmit "code.submit" "Continue" "Continuar";
    ResendQuestion "code.resend_question" "Didn't get a code?" "¿No recibió el código?";
    Resend "code.resend" "Send another code" "Enviar otro código";
    ResendWait "code.resend_wait" "You can ask for another code in {time}." "Puede pedir otro código en {time}.";
    OtherWay "code.other_way" "Sign in another way" "Iniciar sesión de otra forma";
    StartAgain "code.start_again" "Start again" "Empezar de nuevo";
    StatusCodeSent "status.code_sent" "Code sent to {to}." "Código enviado a {to}.";
    StatusCodeResent "status.code_resent" "New code sent to {to}. Earlier codes no longer work." "Nuevo código enviado a {to}. Los códigos anteriores ya no sirven.";
    StatusCodeSentOnFile "status.code_sent_on_file" "Code sent, if these details match an account." "Código enviado, si estos datos coinciden con una cuenta.";
    StatusCodeResentOnFile "status.code_resent_on_file" "New code sent. Earlier codes no longer work." "Nuevo código enviado. Los códigos anteriores ya no sirven.";
    StatusSignedIn "status.signed_in" "Signed in as {name}." "Sesión iniciada como {name}.";
    ErrCodeEmpty "err.code_empty" "Enter the 6-digit code we sent you" "Escriba el código de 6 dígitos que le enviamos";
    ErrCodeFormat "err.code_format" "The code must be 6 numbers" "El código debe tener 6 números";
    ErrOtpInvalid "err.otp_invalid" "That code is not right." "Ese código no es correcto.";
    ErrOtpInvalidOne "err.otp_invalid_one" "That code is not right. You have 1 more try." "Ese código no es correcto. Le queda 1 intento.";
    ErrOtpInvalidMany "err.otp_invalid_many" "That code is not right. You have {n} more tries." "Ese código no es correcto. Le quedan {n} intentos.";
    ErrOtpExpired "err.otp_expired" "This code has expired or was already used. Send another code and enter the new one." "Este código venció o ya se usó. Pida otro código y escriba el nuevo.";
    ErrOtpThrottled "err.otp_throttled" "Too many wrong codes. Wait {time}, then try again." "Demasiados códigos incorrectos. Espere {time} y vuelva a intentarlo.";
    ErrOtpLocked "err.otp_locked" "Too many wrong codes. For your security this code is blocked. Select Start again to get a new one." "Demasiados códigos incorrectos. Por su seguridad, este código está bloqueado. Seleccione Empezar de nuevo para recibir otro.";
    ErrUnknownChallenge "err.unknown_challenge" "This code is no longer valid. Select Start again to get a new one." "Este código ya no es válido. Seleccione Empezar de nuevo para recibir otro.";
    ErrResendTooSoon "err.resend_too_soon" "Wait {time} before asking for another code." "Espere {time} antes de pedir otro código.";
    ErrTooManyCodes "err.too_many_codes" "You have asked for too many codes. Wait {time}, then try again." "Pidió demasiados códigos. Espere {time} y vuelva a intentarlo.";

    ConsentTitle "consent.title" "Share your energy data with {client}?" "¿Compartir sus datos de energía con {client}?";
    ConsentSignedInAs "consent.signed_in_as" "You are signed in as {name}." "Inició sesión como {name}.";
    ClientLogo "consent.logo_alt" "{client} logo" "Logotipo de {client}";
    LinkWebsite "link.website" "{client} website" "Sitio web de {client}";
    LinkPolicy "link.policy" "Privacy policy" "Política de privacidad";
    LinkTos "link.tos" "Terms of service" "Términos del servicio";
    SouHeading "consent.sou_heading" "What {client} will use your data for" "Para qué usará {client} sus datos";
    SouMore "consent.sou_more" "Read {client}'s full statement" "Lea la declaración completa de {client}";
    SouNone "consent.sou_none" "{client} has not said what it will use your data for." "{client} no ha dicho para qué usará sus datos.";
    ShareHeading "consent.share_heading" "What you would share" "Lo que compartiría";
    BaseNote "consent.base_note" "Always included, because any sharing needs it:" "Siempre se incluye, porque cualquier intercambio lo necesita:";
    Receive "consent.receive" "{client} would receive:" "{client} recibiría:";
    DataHint "consent.data_hint" "Untick anything you don't want to share. At least one must stay." "Desmarque lo que no quiera compartir. Debe quedar al menos uno.";
    DataUsage "consent.data_usage" "Your energy use, read from your meters" "Su consumo de energía, leído de sus medidores";
    DataBills "consent.data_bills" "Your bills and what you paid" "Sus facturas y lo que pagó";
    DataAccount "consent.data_account" "Your account details" "Los datos de su cuenta";
    Intervals "consent.intervals" "Readings for each period of: {list}" "Lecturas por cada periodo de: {list}";
    MetersLegend "consent.meters_legend" "Which meters?" "¿Qué medidores?";
    MetersHintAll "meters.hint_all" "{client} asked for all your meters. Untick any you don't want to share." "{client} pidió todos sus medidores. Desmarque los que no quiera compartir.";
    MetersHintListed "meters.hint_listed" "{client} asked for these meters only." "{client} pidió solo estos medidores.";
    MetersHintChoose "meters.hint_choose" "Choose at least one meter." "Elija al menos un medidor.";
    MetersNone "meters.none" "None of the meters on your account can be shared with this request. You can decline it." "Ninguno de los medidores de su cuenta se puede compartir con esta solicitud. Puede rechazarla.";
    KindElectricity "meter.electricity" "Electricity" "Electricidad";
    KindGas "meter.gas" "Gas" "Gas";
    KindWater "meter.water" "Water" "Agua";
    HistoryLegend "consent.history_legend" "How much past data?" "¿Cuántos datos anteriores?";
    HistoryNone "history.none" "No past data, only new data from now on" "Ningún dato anterior, solo datos nuevos desde ahora";
    HistoryOption "history.option" "The last {time}" "Los últimos {time}";
    AsRequested "as_requested" "{x} (as requested)" "{x} (lo solicitado)";
    AsDefault "as_default" "{x} (standard)" "{x} (lo habitual)";
    EndLegend "consent.end_legend" "Until when can {client} get your data?" "¿Hasta cuándo puede {client} recibir sus datos?";
    EndHint "consent.end_hint" "You can stop sharing sooner at any time from your account." "Puede dejar de compartir antes en cualquier momento desde su cuenta.";
    EndUntil "end.until" "Until {date}" "Hasta el {date}";
    EndRevoke "end.revoke" "Until I revoke it" "Hasta que yo la revoque";
    NoEdit "consent.noedit" "{client} asked for exactly this, so it can't be changed here. If you don't agree, choose Decline." "{client} pidió exactamente esto, así que no se puede cambiar aquí. Si no está de acuerdo, elija Rechazar.";
    Technical "consent.technical" "Technical details" "Detalles técnicos";
    TechBlocks "tech.blocks" "Green Button function blocks" "Bloques de función de Green Button";
    TechRequested "tech.requested" "Requested scope" "Alcance solicitado";
    TechGranted "tech.granted" "Scope that would be granted" "Alcance que se otorgaría";
    TechIntervals "tech.intervals" "Interval durations (seconds or names)" "Duraciones de intervalo (segundos o nombres)";
    TechBlockDurations "tech.block_durations" "Block durations" "Duraciones de bloque";
    TechFrequency "tech.frequency" "Subscription frequency" "Frecuencia de la suscripción";
    TechHistory "tech.history" "History length (seconds)" "Historial (segundos)";
    TechEnd "tech.end" "End date (unix seconds, 0 = until revoked)" "Fecha de fin (segundos unix, 0 = hasta revocar)";
    SummaryHeading "consent.summary_heading" "Summary" "Resumen";
    SummaryIntro "consent.summary_intro" "If you choose Authorize, {client} will get:" "Si elige Autorizar, {client} recibirá:";
    SummaryMeters "summary.meters" "From: {list}" "De: {list}";
    SummaryUntil "summary.until" "Until {date}" "Hasta el {date}";
    SummaryRevoke "summary.revoke" "Until you revoke it" "Hasta que usted la revoque";
    Authorize "consent.authorize" "Authorize" "Autorizar";
    Decline "consent.decline" "Decline" "Rechazar";
    ErrNoMeter "err.no_meter" "Choose at least one meter" "Elija al menos un medidor";
    ErrNoData "err.no_data" "Choose at least one kind of data to share" "Elija al menos un tipo de datos para compartir";
    ErrDecision "err.decision" "We could not accept these choices. Check them and try again." "No pudimos aceptar estas opciones. Revíselas e inténtelo de nuevo.";
    ErrNotSignedIn "err.not_signed_in" "Your sign-in has expired. Please sign in again." "Su sesión venció. Inicie sesión de nuevo.";

    DoneTitle "done.title" "You are sharing your energy data with {client}" "Está compartiendo sus datos de energía con {client}";
    DoneReceipt "done.receipt" "Your receipt" "Su comprobante";
    ReceiptWith "receipt.with" "Shared with" "Compartido con";
    ReceiptData "receipt.data" "What" "Qué";
    ReceiptMeters "receipt.meters" "Meters" "Medidores";
    ReceiptHistory "receipt.history" "Past data" "Datos anteriores";
    ReceiptUntil "receipt.until" "Until" "Hasta";
    ReceiptDate "receipt.date" "Authorized on" "Autorizado el";
    ReceiptRef "receipt.reference" "Reference" "Referencia";
    DoneRevoke "done.revoke" "You can stop sharing at any time from your account with your utility." "Puede dejar de compartir en cualquier momento desde su cuenta con su compañía de servicios.";
    DonePrint "done.print" "Print or save this receipt" "Imprimir o guardar este comprobante";
    DoneContinue "done.continue" "Continue to {client}" "Continuar a {client}";
    DoneRedirectIn "done.redirect_in" "We will take you to {client} in {time}." "Le llevaremos a {client} en {time}.";
    DoneStay "done.stay" "Stay on this page" "Quedarme en esta página";
    DeclinedTitle "done.declined_title" "You declined" "Usted rechazó la solicitud";
    DeclinedBody "done.declined_body" "Nothing was shared with {client}." "No se compartió nada con {client}.";

    SharingSignInTitle "sharing.sign_in_title" "Sign in to see your data sharing" "Inicie sesión para ver sus datos compartidos";
    SharingSignInIntro "sharing.sign_in_intro"
        "Sign in to see who gets your energy data, and to stop sharing it."
        "Inicie sesión para ver quién recibe sus datos de energía y dejar de compartirlos.";
    SharingTitle "sharing.title" "Your data sharing" "Sus datos compartidos";
    SharingIntro "sharing.intro" "These companies can get your energy data now." "Estas empresas pueden obtener sus datos de energía ahora.";
    SharingNone "sharing.none" "You are not sharing your energy data with anyone." "No está compartiendo sus datos de energía con nadie.";
    SharingStop "sharing.stop" "Stop sharing with {client}" "Dejar de compartir con {client}";
    SharingStopped "sharing.stopped" "You stopped sharing with {client}. They can no longer get your data." "Dejó de compartir con {client}. Ya no pueden obtener sus datos.";
}

/// The active language plus the utility's overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct I18n {
    /// The language of the built-in bundle (and of the scope descriptions).
    pub lang: Lang,
    overrides: Vec<Option<String>>,
}

impl I18n {
    /// The built-in bundle of `lang`.
    pub fn new(lang: Lang) -> I18n {
        I18n {
            lang,
            overrides: vec![None; KEYS.len()],
        }
    }

    /// Replaces the message with key `key`; false for an unknown key.
    pub fn set(&mut self, key: &str, text: String) -> bool {
        match KEYS.iter().position(|k| *k == key) {
            Some(i) => {
                self.overrides[i] = Some(text);
                true
            }
            None => false,
        }
    }

    /// Applies the overrides meant for this language.
    pub fn apply(&mut self, messages: &Messages) {
        for (lang, key, text) in &messages.0 {
            if lang.as_deref().is_none_or(|l| l == self.lang.as_str()) {
                self.set(key, text.clone());
            }
        }
    }

    /// The text of `m`.
    pub fn t(&self, m: M) -> &str {
        let i = m as usize;
        match &self.overrides[i] {
            Some(s) => s,
            None => Self::builtin(self.lang, i),
        }
    }

    /// The text of `m` with `{name}` placeholders filled in.
    pub fn f(&self, m: M, args: &[(&str, &str)]) -> String {
        fill(self.t(m), args)
    }

    /// The built-in text of message `index` in `lang`.
    pub fn builtin(lang: Lang, index: usize) -> &'static str {
        match lang {
            Lang::En => EN[index],
            Lang::Es => ES[index],
        }
    }

    /// Every message of `lang`, key and text (for utilities writing
    /// their own bundle).
    pub fn defaults(lang: Lang) -> impl Iterator<Item = (&'static str, &'static str)> {
        KEYS.iter()
            .enumerate()
            .map(move |(i, k)| (*k, Self::builtin(lang, i)))
    }
}

/// A utility's message overrides: `key → text` for every language, or for
/// one (`lang`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Messages(Vec<(Option<String>, String, String)>);

impl Messages {
    /// No overrides.
    pub fn new() -> Messages {
        Messages::default()
    }

    /// Replaces `key` in every language.
    pub fn with(mut self, key: &str, text: &str) -> Messages {
        self.0.push((None, key.into(), text.into()));
        self
    }

    /// Replaces `key` in `lang` (`"en"`, `"es"`) only.
    pub fn with_lang(mut self, lang: &str, key: &str, text: &str) -> Messages {
        self.0.push((Some(lang.into()), key.into(), text.into()));
        self
    }

    /// Reads a bundle as JS passes it: an object (or its JSON text) of
    /// `{key: text}` entries and of `{lang: {key: text}}` objects. Anything
    /// else is ignored.
    pub fn from_js(bundle: &wasm_bindgen::JsValue) -> Messages {
        let bundle = match bundle.as_string() {
            Some(text) => js_sys::JSON::parse(&text).unwrap_or_default(),
            None => bundle.clone(),
        };
        let mut m = Messages::new();
        for (key, value) in object_entries(&bundle) {
            match value.as_string() {
                Some(text) => m.0.push((None, key, text)),
                None => {
                    for (k, v) in object_entries(&value) {
                        if let Some(text) = v.as_string() {
                            m.0.push((Some(key.clone()), k, text));
                        }
                    }
                }
            }
        }
        m
    }
}

/// The `[key, value]` pairs of a plain object (none for anything else).
fn object_entries(v: &wasm_bindgen::JsValue) -> Vec<(String, wasm_bindgen::JsValue)> {
    use wasm_bindgen::JsCast;
    if !v.is_object() {
        return Vec::new();
    }
    js_sys::Object::entries(v.unchecked_ref())
        .iter()
        .filter_map(|pair| {
            let pair: js_sys::Array = pair.unchecked_into();
            Some((pair.get(0).as_string()?, pair.get(1)))
        })
        .collect()
}

/// Replaces each `{name}` in `text` by its value in `args`; unknown
/// placeholders stay as written.
pub fn fill(text: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        let Some((name, tail)) = after.split_once('}') else {
            out.push('{');
            rest = after;
            break;
        };
        match args.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => out.push_str(v),
            None => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// The first tag of `tags` that names English or Spanish.
pub fn pick_lang<'a>(tags: impl IntoIterator<Item = &'a str>) -> Option<Lang> {
    tags.into_iter().find_map(Lang::from_tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_bundles_complete() {
        let keys = KEYS;
        assert_eq!(EN.len(), keys.len());
        assert_eq!(ES.len(), keys.len());
        for (i, k) in keys.iter().enumerate() {
            let (en, es) = (I18n::builtin(Lang::En, i), I18n::builtin(Lang::Es, i));
            assert!(!en.is_empty() && !es.is_empty(), "{k}");
            assert_eq!(keys.iter().filter(|x| *x == k).count(), 1, "duplicate {k}");
        }
        assert_eq!(I18n::new(Lang::En).t(M::Loading), "Loading…");
        assert_eq!(keys[M::Retry as usize], "retry");
    }

    #[test]
    fn placeholders_match_between_languages() {
        fn names(s: &str) -> Vec<&str> {
            let mut v: Vec<&str> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n))
                .collect();
            v.sort_unstable();
            v
        }
        for (i, k) in KEYS.iter().enumerate() {
            let (en, es) = (I18n::builtin(Lang::En, i), I18n::builtin(Lang::Es, i));
            assert_eq!(names(en), names(es), "{k}");
        }
    }

    #[test]
    fn required_labels() {
        let en = I18n::new(Lang::En);
        assert!(en.t(M::FieldUsername).contains("Username"));
        assert!(en.t(M::FieldPassword).contains("Password"));
        assert!(en.t(M::FieldAccount).contains("Account number"));
        assert!(en.t(M::FieldZip).contains("ZIP code"));
        assert!(en.t(M::FieldCode).contains("code"));
        assert_eq!(en.t(M::Authorize), "Authorize");
        assert_eq!(en.t(M::Decline), "Decline");
    }

    #[test]
    fn overrides_and_fill() {
        let mut m = I18n::new(Lang::Es);
        assert_eq!(m.t(M::Authorize), "Autorizar");
        assert!(m.set("consent.authorize", "Permitir".into()));
        assert!(!m.set("no.such.key", "x".into()));
        m.apply(
            &Messages::new()
                .with_lang("en", "consent.decline", "No")
                .with("consent.decline", "Mejor no"),
        );
        assert_eq!(
            m.t(M::Decline),
            "Mejor no",
            "other languages' overrides are skipped"
        );
        assert_eq!(m.t(M::Authorize), "Permitir");
        assert_eq!(
            fill("{a} and {b} {c}", &[("a", "1"), ("b", "2")]),
            "1 and 2 {c}"
        );
        assert_eq!(fill("open { brace", &[]), "open { brace");
        assert_eq!(
            pick_lang(["fr-FR", "es-MX", "en"]),
            Some(Lang::Es),
            "first supported tag wins"
        );
    }
}
