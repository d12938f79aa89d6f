//! The ESPI 4.0 function block catalog (ids 1 to 70).
//!
//! Each entry has the official name, its status in ESPI 4.0, the role it
//! plays on a consent screen and a plain-language description for the
//! customer in English and Spanish (never bare numbers).
//!
//! Rules (from GBA's code and 2026 reference consent screen):
//! - deprecated: 14 (replaced by 31), 18, 19, 32, 33, 34, 36, 38,
//!   46 (replaced by 51), 47 (replaced by 67), 48 (replaced by 66), 49, 50, 66;
//! - not scope terms: 20 to 26, 42, 43, 45;
//! - roles: base 1, 3; usage 4; commodity 5 to 11 and 29; bills 12, 15, 16,
//!   17, 27, 28; account 46, 51, 54 to 62; everything else technical. The
//!   usage, commodity, bills and account roles are the three
//!   [`DataKind`]s a customer may drop.
//!
//! ```
//! use espi_scope::catalog::{function_block, ConsentRole, DataKind, Status};
//! let fb = function_block(46);
//! assert_eq!(fb.status, Status::Deprecated { replaced_by: Some(51) });
//! assert_eq!(function_block(16).role, ConsentRole::Bills);
//! assert_eq!(DataKind::of(55), Some(DataKind::Account));
//! assert_eq!(DataKind::of(3), None);
//! assert_eq!(function_block(99).status, Status::Unknown);
//! ```

use core::fmt;

/// Status of a function block in ESPI 4.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Status {
    /// In use.
    Active,
    /// Deprecated in ESPI 4.0 but still sent by utilities.
    Deprecated {
        /// The block that replaces it, if any.
        replaced_by: Option<u16>,
    },
    /// An id that exists in the numbering but is not a scope term
    /// (20 to 26, 42, 43, 45).
    NotAScopeTerm,
    /// Not in the catalog.
    Unknown,
}

impl Status {
    /// `"active"`, `"deprecated"`, `"not-a-scope-term"` or `"unknown"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Deprecated { .. } => "deprecated",
            Status::NotAScopeTerm => "not-a-scope-term",
            Status::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of data a function block shares: what a customer ticks or
/// unticks on the consent screen. Every block of a kind goes or stays
/// together; blocks of no kind (structural and technical ones) always stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum DataKind {
    /// Meter readings: FB 4 and the interval and commodity blocks that go
    /// with it (5 to 11, 29).
    Usage,
    /// Bills and costs: FB 16, 15, 12 and the summary blocks (17, 27, 28).
    Bills,
    /// Account details: FB 51, 54 to 62 and the older 46.
    Account,
}

impl DataKind {
    /// Every kind, in the order a consent screen lists them.
    pub const ALL: [DataKind; 3] = [DataKind::Usage, DataKind::Bills, DataKind::Account];

    /// The kind of a function block; `None` for structural and technical
    /// blocks.
    pub fn of(id: u16) -> Option<DataKind> {
        role_of(id).data_kind()
    }

    /// `"usage"`, `"bills"` or `"account"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::Usage => "usage",
            DataKind::Bills => "bills",
            DataKind::Account => "account",
        }
    }
}

impl fmt::Display for DataKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a meter measures, as the commodity blocks name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Commodity {
    /// FB 5 to 8.
    Electricity,
    /// FB 10.
    Gas,
    /// FB 11.
    Water,
}

impl Commodity {
    /// The commodity a block is about: 5 to 8 electricity, 10 gas, 11
    /// water; `None` for any other block (9 and 29 go with any meter).
    pub fn of_block(id: u16) -> Option<Commodity> {
        match id {
            5..=8 => Some(Commodity::Electricity),
            10 => Some(Commodity::Gas),
            11 => Some(Commodity::Water),
            _ => None,
        }
    }

    /// The block that says a grant covers this commodity (5, 10 or 11).
    pub fn block(self) -> u16 {
        match self {
            Commodity::Electricity => 5,
            Commodity::Gas => 10,
            Commodity::Water => 11,
        }
    }

    /// `"electricity"`, `"gas"` or `"water"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Commodity::Electricity => "electricity",
            Commodity::Gas => "gas",
            Commodity::Water => "water",
        }
    }

    /// Reads `electricity`, `gas` or `water` (any case).
    pub fn from_name(name: &str) -> Option<Commodity> {
        [Commodity::Electricity, Commodity::Gas, Commodity::Water]
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

/// The role a function block plays on a consent screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum ConsentRole {
    /// Structural (1 "Common", 3 "Connect My Data"): shown as "always
    /// included". Cannot be dropped.
    Base,
    /// Meter readings (4): the [`DataKind::Usage`] checkbox.
    Usage,
    /// A commodity of the readings (5 to 11, 29): follows the meters chosen
    /// and the usage checkbox.
    Commodity,
    /// Bills and costs (12, 15, 16, 17, 27, 28): the [`DataKind::Bills`]
    /// checkbox.
    Bills,
    /// Account details (46, 51, 54 to 62): the [`DataKind::Account`]
    /// checkbox.
    Account,
    /// Everything else: shown under "details". Cannot be dropped.
    Technical,
}

impl ConsentRole {
    /// `"base"`, `"usage"`, `"commodity"`, `"bills"`, `"account"` or
    /// `"technical"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ConsentRole::Base => "base",
            ConsentRole::Usage => "usage",
            ConsentRole::Commodity => "commodity",
            ConsentRole::Bills => "bills",
            ConsentRole::Account => "account",
            ConsentRole::Technical => "technical",
        }
    }

    /// The kind of data a block of this role shares; `None` for base and
    /// technical blocks.
    pub fn data_kind(&self) -> Option<DataKind> {
        match self {
            ConsentRole::Usage | ConsentRole::Commodity => Some(DataKind::Usage),
            ConsentRole::Bills => Some(DataKind::Bills),
            ConsentRole::Account => Some(DataKind::Account),
            ConsentRole::Base | ConsentRole::Technical => None,
        }
    }

    /// True when a customer may drop a block of this role while narrowing:
    /// exactly the blocks that share a kind of data.
    pub fn droppable(&self) -> bool {
        self.data_kind().is_some()
    }
}

impl fmt::Display for ConsentRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FunctionBlock {
    /// The id (`FB_4` has id 4).
    pub id: u16,
    /// The official name.
    pub name: &'static str,
    /// ESPI 4.0 status.
    pub status: Status,
    /// Role on a consent screen.
    pub role: ConsentRole,
    /// What the customer shares, in plain English.
    pub description_en: &'static str,
    /// What the customer shares, in plain Spanish.
    pub description_es: &'static str,
}

impl FunctionBlock {
    /// The replacement of a deprecated block.
    pub fn replaced_by(&self) -> Option<u16> {
        match self.status {
            Status::Deprecated { replaced_by } => replaced_by,
            _ => None,
        }
    }

    /// True for ids 1 to 70.
    pub fn is_known(&self) -> bool {
        self.status != Status::Unknown
    }
}

/// The role of an id (by the rules above; unknown ids are technical).
pub fn role_of(id: u16) -> ConsentRole {
    match id {
        1 | 3 => ConsentRole::Base,
        4 => ConsentRole::Usage,
        5..=11 | 29 => ConsentRole::Commodity,
        12 | 15 | 16 | 17 | 27 | 28 => ConsentRole::Bills,
        46 | 51 | 54..=62 => ConsentRole::Account,
        _ => ConsentRole::Technical,
    }
}

/// The status of an id.
pub fn status_of(id: u16) -> Status {
    match id {
        14 => Status::Deprecated {
            replaced_by: Some(31),
        },
        46 => Status::Deprecated {
            replaced_by: Some(51),
        },
        47 => Status::Deprecated {
            replaced_by: Some(67),
        },
        48 => Status::Deprecated {
            replaced_by: Some(66),
        },
        18 | 19 | 32 | 33 | 34 | 36 | 38 | 49 | 50 | 66 => Status::Deprecated { replaced_by: None },
        20..=26 | 42 | 43 | 45 => Status::NotAScopeTerm,
        1..=70 => Status::Active,
        _ => Status::Unknown,
    }
}

const UNKNOWN_NAME: &str = "Unknown function block";
const UNKNOWN_EN: &str = "An item that is not in the Green Button list, so its meaning is unknown";
const UNKNOWN_ES: &str =
    "Un elemento que no está en la lista de Green Button, por lo que se desconoce su significado";

// The text of the ids that are not scope terms.
const RESERVED: (&str, &str, &str) = (
    "Reserved (not a scope term)",
    "A technical item that is not part of a data-sharing request",
    "Un elemento técnico que no forma parte de una solicitud para compartir datos",
);

/// The name, English and Spanish descriptions of ids 1 to 70.
const ENTRIES: [(&str, &str, &str); 70] = [
    (
        "Common",
        "Basic information needed to share any of your energy data",
        "Información básica necesaria para compartir cualquiera de sus datos de energía",
    ),
    (
        "Download My Data",
        "Lets you download your energy data as a file",
        "Le permite descargar sus datos de energía como un archivo",
    ),
    (
        "Connect My Data",
        "Automatic sharing of your energy data with an app or company you choose",
        "Envío automático de sus datos de energía a una aplicación o empresa que usted elija",
    ),
    (
        "Interval Metering",
        "Your energy usage readings, measured at regular intervals",
        "Sus lecturas de consumo de energía, medidas a intervalos regulares",
    ),
    (
        "Interval Electricity Metering",
        "Your electricity usage, measured at regular intervals",
        "Su consumo de electricidad, medido a intervalos regulares",
    ),
    (
        "Demand Electricity Metering",
        "The highest electricity demand your meter recorded",
        "La demanda máxima de electricidad que registró su medidor",
    ),
    (
        "Net Metering",
        "Electricity you use and electricity you send back to the grid, for example from solar panels",
        "La electricidad que usa y la que devuelve a la red, por ejemplo desde paneles solares",
    ),
    (
        "Forward and Reverse Metering",
        "Electricity flowing to you and back to the grid, recorded separately",
        "La electricidad que recibe y la que devuelve a la red, registradas por separado",
    ),
    (
        "Register Values",
        "The running totals shown on your meter",
        "Los totales acumulados que muestra su medidor",
    ),
    ("Gas", "Your natural gas usage", "Su consumo de gas natural"),
    ("Water", "Your water usage", "Su consumo de agua"),
    (
        "Cost of Interval Data",
        "The cost of your energy for each reading period",
        "El costo de su energía en cada periodo de lectura",
    ),
    (
        "Security and Privacy Classes",
        "Security and privacy protections for your energy data",
        "Protecciones de seguridad y privacidad de sus datos de energía",
    ),
    (
        "Authorization and Authentication",
        "An older technical way of approving access, no longer used",
        "Una forma técnica antigua de aprobar el acceso, que ya no se usa",
    ),
    (
        "Usage Summary",
        "Summaries of your energy usage for each billing period",
        "Resúmenes de su consumo de energía por periodo de facturación",
    ),
    (
        "Usage Summary with Cost",
        "Your bills and costs",
        "Sus facturas y costos",
    ),
    (
        "Power Quality Summary",
        "Summaries of the quality of the power delivered to you, such as voltage",
        "Resúmenes de la calidad de la energía que recibe, como el voltaje",
    ),
    (
        "Multiple Usage Points",
        "An older technical way of sharing several meters at once, no longer used",
        "Una forma técnica antigua de compartir varios medidores a la vez, que ya no se usa",
    ),
    (
        "Partial Update Data",
        "An older technical way of sending partial updates, no longer used",
        "Una forma técnica antigua de enviar actualizaciones parciales, que ya no se usa",
    ),
    RESERVED,
    RESERVED,
    RESERVED,
    RESERVED,
    RESERVED,
    RESERVED,
    RESERVED,
    (
        "Usage Summary with Demands and Previous Day Attributes",
        "Usage summaries with your highest demand and the previous day's usage",
        "Resúmenes de consumo con su demanda máxima y el consumo del día anterior",
    ),
    (
        "Usage Summary Costs for Current Billing Period",
        "Your costs so far in the current billing period",
        "Sus costos hasta ahora en el periodo de facturación actual",
    ),
    (
        "Temperature Interval Metering",
        "Temperature readings taken at regular intervals",
        "Lecturas de temperatura tomadas a intervalos regulares",
    ),
    (
        "Common User Experience",
        "The standard look and wording of the Download My Data button",
        "El aspecto y el texto estándar del botón para descargar sus datos",
    ),
    (
        "Authorization and Authentication without Pre-Negotiated Scope",
        "Lets you choose exactly what to share when you approve access",
        "Le permite elegir exactamente qué compartir al aprobar el acceso",
    ),
    (
        "Resource Level REST",
        "An older technical way of fetching single records, no longer used",
        "Una forma técnica antigua de obtener registros individuales, que ya no se usa",
    ),
    (
        "Management REST Services",
        "An older technical way of managing data transfers, no longer used",
        "Una forma técnica antigua de gestionar las transferencias de datos, que ya no se usa",
    ),
    (
        "SFTP for Bulk",
        "An older way of sending many customers' data as files, no longer used",
        "Una forma antigua de enviar los datos de muchos clientes como archivos, que ya no se usa",
    ),
    (
        "REST for Bulk",
        "Sending your data together with other customers' data in one transfer",
        "El envío de sus datos junto con los de otros clientes en una sola transferencia",
    ),
    (
        "Third Party Dynamic Registration",
        "An older way for apps to register with your utility automatically, no longer used",
        "Una forma antigua de que las aplicaciones se registren automáticamente con su compañía, que ya no se usa",
    ),
    (
        "Query Parameters",
        "Lets the app ask for data from specific dates",
        "Permite que la aplicación pida datos de fechas específicas",
    ),
    (
        "On Demand Requests",
        "An older way of asking for data at any time, no longer used",
        "Una forma antigua de pedir datos en cualquier momento, que ya no se usa",
    ),
    (
        "PUSH Model",
        "Your utility sends new data to the app as soon as it is ready",
        "Su compañía envía los datos nuevos a la aplicación en cuanto están listos",
    ),
    (
        "Offline Authorization",
        "Approving access by a way other than online, such as on paper",
        "La aprobación del acceso por un medio que no es en línea, como en papel",
    ),
    (
        "Manage ApplicationInformation Resource",
        "Technical details of the app's registration with your utility",
        "Datos técnicos del registro de la aplicación con su compañía",
    ),
    RESERVED,
    RESERVED,
    (
        "Manage Authorization Resource",
        "Technical records of the access you have approved",
        "Registros técnicos del acceso que usted aprobó",
    ),
    (
        "Upload (not a scope term)",
        "A technical item used only by meter systems to upload readings, not part of a data-sharing request",
        "Un elemento técnico que solo usan los sistemas de medición para cargar lecturas, no forma parte de una solicitud para compartir datos",
    ),
    (
        "Core Retail Customer",
        "Your account number and service address (older form)",
        "Su número de cuenta y dirección de servicio (forma antigua)",
    ),
    (
        "REST for Retail Customer Bulk",
        "An older way of sending many customers' account details together, no longer used",
        "Una forma antigua de enviar juntos los datos de cuenta de muchos clientes, que ya no se usa",
    ),
    (
        "SFTP for Retail Customer Bulk",
        "An older way of sending many customers' account details as files, no longer used",
        "Una forma antigua de enviar los datos de cuenta de muchos clientes como archivos, que ya no se usa",
    ),
    (
        "Retail Customer Management REST",
        "An older technical way of managing account detail transfers, no longer used",
        "Una forma técnica antigua de gestionar el envío de datos de cuenta, que ya no se usa",
    ),
    (
        "Retail Customer Resource Level REST",
        "An older technical way of fetching single account records, no longer used",
        "Una forma técnica antigua de obtener registros de cuenta individuales, que ya no se usa",
    ),
    (
        "Retail Customer Common",
        "Your account number and service address",
        "Su número de cuenta y dirección de servicio",
    ),
    (
        "Retail Customer Download My Data",
        "Lets you download your account details as a file",
        "Le permite descargar los datos de su cuenta como un archivo",
    ),
    (
        "Retail Customer Connect My Data",
        "Automatic sharing of your account details with an app or company you choose",
        "Envío automático de los datos de su cuenta a una aplicación o empresa que usted elija",
    ),
    (
        "Basic Information",
        "Your name and basic contact details",
        "Su nombre y sus datos básicos de contacto",
    ),
    (
        "Demographic (Address) Information",
        "Your mailing address",
        "Su dirección postal",
    ),
    (
        "Billing Information",
        "Your billing details, such as amounts due and due dates",
        "Sus datos de facturación, como importes y fechas de vencimiento",
    ),
    (
        "AccountAgreement Information",
        "The details of your service agreements",
        "Los detalles de sus contratos de servicio",
    ),
    (
        "ServiceLocation Information",
        "The places where you receive service",
        "Los lugares donde recibe el servicio",
    ),
    (
        "ServiceSupplier Information",
        "Who supplies your energy",
        "Quién le suministra la energía",
    ),
    (
        "Meter Information",
        "Details about your meters",
        "Detalles de sus medidores",
    ),
    (
        "EndDevice Information",
        "Details about other devices on your service, such as smart thermostats",
        "Detalles de otros dispositivos de su servicio, como termostatos inteligentes",
    ),
    (
        "ProgramDateIdMappings Information",
        "The energy programs you are enrolled in and their dates",
        "Los programas de energía en los que está inscrito y sus fechas",
    ),
    (
        "Retail Customer Common User Experience",
        "The standard look and wording for downloading your account details",
        "El aspecto y el texto estándar para descargar los datos de su cuenta",
    ),
    (
        "Retail Customer Security and Privacy",
        "Security and privacy protections for your account details",
        "Protecciones de seguridad y privacidad de los datos de su cuenta",
    ),
    (
        "Retail Customer Authorization w/o Pre-Negotiated Scope",
        "Lets you choose exactly which account details to share when you approve access",
        "Le permite elegir exactamente qué datos de su cuenta compartir al aprobar el acceso",
    ),
    (
        "SFTP for Retail Customer Bulk",
        "An older way of sending many customers' account details as files, no longer used",
        "Una forma antigua de enviar los datos de cuenta de muchos clientes como archivos, que ya no se usa",
    ),
    (
        "REST for Retail Customer Bulk",
        "Sending your account details together with other customers' in one transfer",
        "El envío de los datos de su cuenta junto con los de otros clientes en una sola transferencia",
    ),
    (
        "Retail Customer Query Parameters",
        "Lets the app ask for account details from specific dates",
        "Permite que la aplicación pida datos de cuenta de fechas específicas",
    ),
    (
        "Retail Customer PUSH Model",
        "Your utility sends updated account details to the app as soon as they change",
        "Su compañía envía los datos de cuenta actualizados a la aplicación en cuanto cambian",
    ),
    (
        "Retail Customer Offline Authorization",
        "Approving access to your account details by a way other than online, such as on paper",
        "La aprobación del acceso a los datos de su cuenta por un medio que no es en línea, como en papel",
    ),
];

/// The catalog entry of an id. Never fails: an id outside 1 to 70 gets
/// [`Status::Unknown`], the role [`ConsentRole::Technical`] and a generic
/// name and description.
pub fn function_block(id: u16) -> FunctionBlock {
    let (name, en, es) = match id {
        1..=70 => ENTRIES[usize::from(id - 1)],
        _ => (UNKNOWN_NAME, UNKNOWN_EN, UNKNOWN_ES),
    };
    FunctionBlock {
        id,
        name,
        status: status_of(id),
        role: role_of(id),
        description_en: en,
        description_es: es,
    }
}

/// The official name of an id (`"Interval Metering"` for 4).
pub fn name_of(id: u16) -> &'static str {
    match id {
        1..=70 => ENTRIES[usize::from(id - 1)].0,
        _ => UNKNOWN_NAME,
    }
}

/// Every catalog entry, ids 1 to 70 in order.
pub fn all() -> impl Iterator<Item = FunctionBlock> {
    (1..=70u16).map(function_block)
}
