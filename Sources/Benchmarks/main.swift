import ServiceKit
